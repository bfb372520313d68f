//! Serves the web app: embedded in the binary (or from PROVISIO_WEB_DIR), with client-side
//! routes falling back to index.html and unknown `/api` paths answering problem+json 404.

use crate::error::{problem, problem_response};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;
use std::borrow::Cow;
use std::path::PathBuf;

#[derive(RustEmbed)]
#[folder = "$CARGO_MANIFEST_DIR/../web/dist"]
#[allow_missing = true]
struct Embedded;

#[derive(Clone)]
pub struct WebAssets {
    pub dir: Option<PathBuf>,
}

impl WebAssets {
    fn read(&self, path: &str) -> Option<Cow<'static, [u8]>> {
        match &self.dir {
            Some(dir) => {
                // Only plain relative names: no `..`, no absolute paths.
                if path.split('/').any(|part| part == ".." || part.is_empty()) {
                    return None;
                }
                std::fs::read(dir.join(path)).ok().map(Cow::Owned)
            }
            None => Embedded::get(path).map(|f| f.data),
        }
    }
}

pub async fn serve(req: HttpRequest, assets: web::Data<WebAssets>) -> HttpResponse {
    let path = req.path().trim_start_matches('/');
    if path == "api" || path.starts_with("api/") {
        let status = StatusCode::NOT_FOUND;
        return problem_response(
            status,
            &problem(status, Some("no such API endpoint".into()), None),
        );
    }
    if !path.is_empty() {
        if let Some(body) = assets.read(path) {
            let mime = mime_guess::from_path(path).first_or_octet_stream();
            return HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, mime.as_ref()))
                .insert_header((header::CACHE_CONTROL, "no-cache"))
                .body(body.into_owned());
        }
        // A missing file (a name with an extension) is a 404; anything else is a client-side route.
        let last = path.rsplit('/').next().unwrap_or("");
        if last.contains('.') {
            return HttpResponse::NotFound()
                .content_type("text/plain")
                .body("not found");
        }
    }
    match assets.read("index.html") {
        Some(body) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(body.into_owned()),
        None => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("The web app is not built. Run scripts/run.sh (it builds web/ with Trunk) or set PROVISIO_WEB_DIR."),
    }
}
