//! Job-queue throughput: N empty jobs claimed and completed by 1 and by 4 concurrent workers,
//! on PostgreSQL (`PROVISIO_BENCH_PG_URL`, e.g. from `scripts/postgres.sh url`) and on SQLite.
//! Prints jobs/s and the 4-worker / 1-worker ratio. Run: `cargo bench -p api --bench job_queue`.

use api::jobs::{claim, release, SUCCEEDED};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use std::time::{Duration, Instant};

const JOBS: usize = 2000;

async fn connect(url: &str) -> DatabaseConnection {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(8).sqlx_logging(false);
    let db = Database::connect(opts).await.expect("connect");
    use migrations::MigratorTrait;
    migrations::Migrator::fresh(&db).await.expect("migrate");
    db
}

async fn fill(db: &DatabaseConnection) {
    for i in 0..JOBS {
        api::domain::jobs::enqueue(
            db,
            api::domain::jobs::JobKind::Probe,
            &format!("bench:{i}"),
            serde_json::json!({}),
        )
        .await
        .unwrap();
    }
}

async fn drain(db: &DatabaseConnection, workers: usize) -> f64 {
    fill(db).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("bench-{w}");
            let mut done = 0usize;
            loop {
                match claim(&db, &name, Duration::from_secs(60)).await {
                    Ok(Some(job)) => {
                        release(&db, job.id, &name, SUCCEEDED, None, None)
                            .await
                            .unwrap();
                        done += 1;
                    }
                    Ok(None) => return done,
                    // SQLite's single writer: a busy claim is retried.
                    Err(_) => tokio::task::yield_now().await,
                }
            }
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, JOBS, "every job exactly once");
    let rate = JOBS as f64 / started.elapsed().as_secs_f64();
    use sea_orm::ConnectionTrait;
    db.execute_unprepared("DELETE FROM jobs").await.unwrap();
    rate
}

async fn report(label: &str, db: DatabaseConnection) {
    let one = drain(&db, 1).await;
    let four = drain(&db, 4).await;
    println!(
        "{label}: {JOBS} jobs claimed+completed — 1 worker {one:.0} jobs/s, 4 workers {four:.0} jobs/s, ratio 4/1 = {:.2}",
        four / one
    );
}

#[tokio::main]
async fn main() {
    if let Some(url) = std::env::var("PROVISIO_BENCH_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        report("PostgreSQL", connect(&url).await).await;
    } else {
        println!("PostgreSQL: skipped (set PROVISIO_BENCH_PG_URL)");
    }
    let dir = std::env::temp_dir().join(format!("provisio-bench-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    report("SQLite", connect(&url).await).await;
    let _ = std::fs::remove_dir_all(dir);
}
