//! Inputs schemathesis (scripts/schemathesis.sh) found answered wrongly, kept as regressions.

mod common;

use common::{assert_problem, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

/// `page * per_page` overflowed in the paginator: the worker panicked and the connection closed
/// without an answer.
#[tokio::test]
async fn page_numbers_too_large_for_an_offset_are_rejected_per_field() {
    let app = spawn_app().await;
    for list in [
        "/api/teams",
        "/api/users",
        "/api/requests",
        "/api/servers",
        "/api/audit",
        "/api/deployments",
        "/api/scripts",
        "/api/playbook-runs",
    ] {
        let problem = assert_problem(
            app.get(
                &format!("{list}?page=9223372036854775808&per_page=200"),
                &app.admin.token,
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(problem["errors"]["page"].is_array(), "{list}: {problem}");
    }
    let last_allowed = app
        .get(
            &format!("/api/teams?page={}", api::domain::listing::PAGE_MAX),
            &app.admin.token,
        )
        .await;
    assert_eq!(last_allowed.status(), StatusCode::OK);
}

/// The export ignored the paging fields of the query it shares with the list, so a query the
/// list rejects was answered 200.
#[tokio::test]
async fn the_audit_export_rejects_the_paging_values_the_list_rejects() {
    let app = spawn_app().await;
    let problem = assert_problem(
        app.get("/api/audit/export.csv?per_page=201", &app.admin.token)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(problem["errors"]["per_page"].is_array(), "{problem}");
    let export = app
        .get("/api/audit/export.csv?per_page=200", &app.admin.token)
        .await;
    assert_eq!(export.status(), StatusCode::OK);
}

/// Optional bodies were read as `Option<Json<_>>`, which turns a body that does not decode into
/// "no body": `{"branch": {}}` queued a push of the current branch.
#[tokio::test]
async fn an_optional_body_that_does_not_decode_is_refused_not_ignored() {
    let app = spawn_app().await;
    let team = app.create_team("optional bodies").await;
    let project = common::insert_project(&app, &team).await;
    let jobs_before = app.count("SELECT COUNT(*) AS n FROM jobs").await;
    for (body, field) in [
        (r#"{"branch": {}}"#, "branch"),
        ("[1, 2", "body"),
        ("\"main\"", "body"),
    ] {
        let res = app
            .post_raw(
                &format!("/api/projects/{project}/push"),
                &app.admin.token,
                body,
            )
            .await;
        let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(problem["errors"][field].is_array(), "{body}: {problem}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM jobs").await,
        jobs_before
    );
}

/// serde reads a struct from an array of its fields too, so `[null, null]` was a sync request
/// with no options (schemathesis's negative_data_rejection): every body is an object.
#[tokio::test]
async fn a_body_that_is_not_an_object_is_refused() {
    let app = spawn_app().await;
    for (path, body) in [
        ("/api/hetzner/sync", "[null, null]"),
        ("/api/proxmox/sync", "[]"),
        ("/api/teams", r#"["a team"]"#),
    ] {
        let res = app.post_raw(path, &app.admin.token, body).await;
        let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(
            problem["errors"]["body"],
            json!(["must be a JSON object"]),
            "{path} {body}: {problem}"
        );
    }
}
