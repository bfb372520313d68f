//! The job queue itself: concurrent workers never claim a job twice (SKIP LOCKED on PostgreSQL,
//! the single writer on SQLite), lapsed leases are taken over, cancellation reaches a running job.

mod common;

use api::domain::jobs::request_cancel;
use api::jobs::{claim, heartbeat, release, SUCCEEDED};
use common::spawn_app;
use std::collections::HashMap;
use std::time::Duration;

#[tokio::test]
async fn concurrent_workers_claim_each_job_exactly_once() {
    let app = spawn_app().await;
    for i in 0..60 {
        api::domain::jobs::enqueue(
            &app.db,
            api::domain::jobs::JobKind::Probe,
            &format!("once:{i}"),
            serde_json::json!({}),
        )
        .await
        .unwrap();
    }
    let mut tasks = Vec::new();
    for w in 0..4 {
        let db = app.db.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("w{w}");
            let mut mine = Vec::new();
            let mut idle = 0;
            while idle < 20 {
                match claim(&db, &name, Duration::from_secs(60)).await {
                    Ok(Some(job)) => {
                        idle = 0;
                        assert!(release(&db, job.id, &name, SUCCEEDED, None, None)
                            .await
                            .unwrap());
                        mine.push(job.id);
                    }
                    Ok(None) => idle += 1,
                    Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            }
            mine
        }));
    }
    let mut seen: HashMap<uuid::Uuid, usize> = HashMap::new();
    for t in tasks {
        for id in t.await.unwrap() {
            *seen.entry(id).or_default() += 1;
        }
    }
    assert_eq!(seen.len(), 60);
    assert!(seen.values().all(|n| *n == 1), "a job ran twice");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM jobs WHERE status = 'succeeded'")
            .await,
        60
    );
}

#[tokio::test]
async fn a_lapsed_lease_is_taken_over_and_the_old_owner_can_no_longer_finish() {
    let app = spawn_app().await;
    api::domain::jobs::enqueue(
        &app.db,
        api::domain::jobs::JobKind::Probe,
        "lease:1",
        serde_json::json!({}),
    )
    .await
    .unwrap();
    let job = claim(&app.db, "old", Duration::from_millis(200))
        .await
        .unwrap()
        .unwrap();
    assert!(
        claim(&app.db, "new", Duration::from_secs(60))
            .await
            .unwrap()
            .is_none(),
        "held while the lease runs"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let taken = claim(&app.db, "new", Duration::from_secs(60))
        .await
        .unwrap()
        .expect("taken over");
    assert_eq!(taken.id, job.id);
    assert_eq!(taken.attempts, 2);
    assert!(!heartbeat(&app.db, job.id, "old", Duration::from_secs(60))
        .await
        .unwrap());
    assert!(
        !release(&app.db, job.id, "old", SUCCEEDED, None, None)
            .await
            .unwrap(),
        "the old owner lost it"
    );
    assert!(release(&app.db, job.id, "new", SUCCEEDED, None, None)
        .await
        .unwrap());
}

#[tokio::test]
async fn cancelling_stops_a_queued_job_at_once_and_a_running_one_at_its_heartbeat() {
    let app = spawn_app().await;
    api::domain::jobs::enqueue(
        &app.db,
        api::domain::jobs::JobKind::Probe,
        "cancel:queued",
        serde_json::json!({}),
    )
    .await
    .unwrap();
    let queued = app
        .count("SELECT COUNT(*) AS n FROM jobs WHERE status = 'queued'")
        .await;
    assert_eq!(queued, 1);
    let job = claim(&app.db, "w", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert!(heartbeat(&app.db, job.id, "w", Duration::from_secs(60))
        .await
        .unwrap());
    assert!(request_cancel(&app.db, job.id).await.unwrap());
    assert!(
        !heartbeat(&app.db, job.id, "w", Duration::from_secs(60))
            .await
            .unwrap(),
        "the worker learns of the cancellation"
    );

    api::domain::jobs::enqueue(
        &app.db,
        api::domain::jobs::JobKind::Probe,
        "cancel:waiting",
        serde_json::json!({}),
    )
    .await
    .unwrap();
    let waiting: uuid::Uuid = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        api::entities::jobs::Entity::find()
            .filter(api::entities::jobs::Column::DedupeKey.eq("cancel:waiting"))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    assert!(request_cancel(&app.db, waiting).await.unwrap());
    assert!(
        claim(&app.db, "w", Duration::from_secs(60))
            .await
            .unwrap()
            .is_none(),
        "a cancelled job is never claimed"
    );
}

#[tokio::test]
async fn a_probe_goes_through_the_queue_and_prints_what_it_was_asked() {
    let app = common::spawn_app_with(common::Options {
        workers: 1,
        ..Default::default()
    })
    .await;
    let token = app.admin.token.clone();
    let res = app
        .post(
            "/api/probes",
            &token,
            serde_json::json!({"wait_ms": 70_000, "lines": 20_000, "interval_ms": 5}),
        )
        .await;
    let problem = common::assert_problem(res, reqwest::StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(problem["errors"]["wait_ms"].is_array(), "{problem}");
    assert!(problem["errors"]["lines"].is_array(), "{problem}");
    assert!(problem["errors"].get("interval_ms").is_none(), "{problem}");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM jobs WHERE kind = 'probe'")
            .await,
        0,
        "a refused probe queues nothing"
    );

    let res = app
        .post(
            "/api/probes",
            &token,
            serde_json::json!({"wait_ms": 50, "lines": 3, "interval_ms": 1}),
        )
        .await;
    assert_eq!(res.status(), 202);
    let execution = res.json::<serde_json::Value>().await.unwrap()["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let detail = loop {
        let detail: serde_json::Value = app
            .get(&format!("/api/executions/{execution}"), &token)
            .await
            .json()
            .await
            .unwrap();
        if detail["execution"]["status"] == "succeeded" {
            break detail;
        }
        assert!(std::time::Instant::now() < deadline, "{detail:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let texts: Vec<&str> = detail["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert!(texts[0].starts_with("probe held by worker "), "{texts:?}");
    assert_eq!(
        &texts[1..4],
        [
            "probe line 1 of 3",
            "probe line 2 of 3",
            "probe line 3 of 3"
        ]
    );
    assert!(
        texts[4].starts_with("probe answered by worker "),
        "{texts:?}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'probe.send'")
            .await,
        1
    );
}

async fn heard(listener: &mut sea_orm::sqlx::postgres::PgListener, wait_ms: u64) -> bool {
    tokio::time::timeout(Duration::from_millis(wait_ms), listener.recv())
        .await
        .is_ok()
}

/// PostgreSQL: the workers' writer skips the triggers' per-commit NOTIFY (which serializes
/// commits) and notifies once when it publishes; every other connection still notifies itself.
#[tokio::test]
async fn the_batched_live_writer_notifies_when_it_publishes_and_not_per_commit() {
    use sea_orm::ConnectionTrait;
    if !common::is_postgres() {
        return;
    }
    let app = spawn_app().await;
    let mut listener =
        sea_orm::sqlx::postgres::PgListener::connect_with(app.db.get_postgres_connection_pool())
            .await
            .unwrap();
    listener.listen(api::live::CHANNEL).await.unwrap();
    let touch = "UPDATE deployments SET status = status WHERE false";

    // Control: an ordinary connection's commit notifies.
    app.db.execute_unprepared(touch).await.unwrap();
    assert!(heard(&mut listener, 3000).await, "the trigger notifies");

    let writer = api::live::Writer::batched(&app.db, 2);
    writer.db.execute_unprepared(touch).await.unwrap();
    assert!(
        !heard(&mut listener, 500).await,
        "a batched writer's commit notifies nobody by itself"
    );
    writer.publish();
    writer.publish();
    assert!(heard(&mut listener, 3000).await, "publishing notifies");
    assert!(
        !heard(&mut listener, 500).await,
        "publishes close together fold into one NOTIFY"
    );
}

/// PostgreSQL: the queue's tables are vacuumed after 1 % of their rows changed, not the default
/// 20 %, so the claim does not step over a backlog of dead row versions.
#[tokio::test]
async fn the_queue_tables_are_vacuumed_early_on_postgres() {
    if !common::is_postgres() {
        return;
    }
    let app = spawn_app().await;
    for table in ["jobs", "executions"] {
        let options: Vec<String> = sea_orm::sqlx::query_scalar(
            "SELECT unnest(reloptions) FROM pg_class WHERE relname = $1 AND relkind = 'r'",
        )
        .bind(table)
        .fetch_all(app.db.get_postgres_connection_pool())
        .await
        .unwrap();
        for expected in [
            "autovacuum_vacuum_scale_factor=0.01",
            "autovacuum_vacuum_threshold=1000",
            "autovacuum_analyze_scale_factor=0.02",
        ] {
            assert!(
                options.iter().any(|o| o == expected),
                "{table}: {expected} not in {options:?}"
            );
        }
    }
}

/// A job's closing line is stored with its finish when it succeeds, and on its own (before the
/// failure is recorded) when it does not.
#[tokio::test]
async fn a_closing_log_line_is_stored_with_the_finish_or_flushed_on_failure() {
    use api::entities::{execution_logs, executions};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let app = spawn_app().await;
    let lines = |execution: uuid::Uuid, text: &'static str| {
        let db = app.db.clone();
        async move {
            execution_logs::Entity::find()
                .filter(execution_logs::Column::ExecutionId.eq(execution))
                .filter(execution_logs::Column::Text.like(text))
                .count(&db)
                .await
                .unwrap()
        }
    };
    let new = api::domain::probes::new_execution(&app.db, None)
        .await
        .unwrap();
    let execution = api::domain::executions::create(&app.db, new).await.unwrap();
    let sink = api::exec::log::LogSink::new(app.db.clone(), execution, vec![]);
    sink.closing("all done");
    assert_eq!(
        lines(execution, "all done").await,
        0,
        "held until the job ends"
    );
    sink.flush_closing().await;
    assert_eq!(lines(execution, "all done").await, 1);
    sink.flush_closing().await;
    assert_eq!(lines(execution, "all done").await, 1, "stored once");

    // Through a worker: a probe's closing line arrives with the succeeded job, once.
    let probe = app
        .post(
            "/api/probes",
            &app.admin.token,
            serde_json::json!({"wait_ms": 0, "lines": 0, "interval_ms": 0}),
        )
        .await;
    assert_eq!(probe.status(), 202);
    let probe: serde_json::Value = probe.json().await.unwrap();
    let probe: uuid::Uuid = probe["execution_id"].as_str().unwrap().parse().unwrap();
    let stop = api::jobs::spawn_workers(&app.state, 1);
    let status = || async {
        executions::Entity::find_by_id(probe)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .status
    };
    for _ in 0..200 {
        if status().await == "succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(true);
    assert_eq!(status().await, "succeeded", "the probe ran");
    assert_eq!(
        lines(probe, "probe answered by worker %").await,
        1,
        "its closing line, once"
    );
}

/// Progress trackers read the stage a step line carries, never its wording: the stage a job
/// writes reaches clients on the line; other lines carry none.
#[tokio::test]
async fn step_lines_carry_their_pipeline_stage_to_clients() {
    use shared::stages::Stage;
    let app = spawn_app().await;
    let team = api::domain::teams::global_team(&app.db)
        .await
        .unwrap()
        .expect("the Global team");
    let execution = api::domain::executions::create(
        &app.db,
        api::domain::executions::NewExecution {
            kind: "probe",
            target_type: "probe",
            target_id: uuid::Uuid::new_v4(),
            team_id: team.id,
            created_by: None,
            script_version_id: None,
            variables: None,
        },
    )
    .await
    .unwrap();
    let log = api::exec::log::LogSink::new(app.db.clone(), execution, vec![]);
    log.stage(Stage::WaitingForSsh, "waiting for SSH on 10.0.0.5:22")
        .await;
    // A provider's own step, worded like a stage, is not one.
    log.step("Waiting for SSH, said the template").await;
    log.info("not reachable yet").await;

    let res = app
        .get(&format!("/api/executions/{execution}"), &app.admin.token)
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    let lines = body["lines"].as_array().unwrap();
    let seen: Vec<(&str, Option<&str>)> = lines
        .iter()
        .map(|l| {
            (
                l["stream"].as_str().unwrap(),
                l.get("stage").and_then(|s| s.as_str()),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("step", Some("waiting_for_ssh")),
            ("step", None),
            ("info", None),
        ]
    );
    assert_eq!(
        body["execution"]["step"],
        "Waiting for SSH, said the template"
    );
}
