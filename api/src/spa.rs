//! Serves the web app: embedded in the binary (or from PROVISIO_WEB_DIR), with client-side
//! routes falling back to index.html and unknown `/api` paths answering problem+json 404.

use crate::error::{problem, problem_response};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;
use std::borrow::Cow;
use std::path::PathBuf;

#[derive(RustEmbed)]
#[folder = "../web/dist"]
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
            .insert_header((header::CONTENT_SECURITY_POLICY, content_security_policy(&body)))
            .body(body.into_owned()),
        None => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("The web app is not built. Run scripts/run.sh (it builds web/ with Trunk) or set PROVISIO_WEB_DIR."),
    }
}

/// A CSP that allows scripts only from this origin plus the exact inline bootstrap scripts Trunk
/// writes into index.html (by hash), so no `unsafe-inline` is needed for scripts.
pub fn content_security_policy(index_html: &[u8]) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let html = String::from_utf8_lossy(index_html);
    let mut hashes = String::new();
    let mut rest = html.as_ref();
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let Some(close) = after.find("</script>") else {
            break;
        };
        let tag = &after[..open_end];
        let content = &after[open_end + 1..close];
        if !tag.contains("src=") && !content.trim().is_empty() {
            let digest = Sha256::digest(content.as_bytes());
            hashes.push_str(&format!(
                " 'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &after[close + "</script>".len()..];
    }
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::content_security_policy;

    #[test]
    fn csp_hashes_inline_scripts_and_never_allows_unsafe_inline_scripts() {
        let html = b"<html><script type=\"module\">import init from '/web.js';</script><script src=\"/x.js\"></script></html>";
        let csp = content_security_policy(html);
        let script_src = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(!script_src.contains("unsafe-inline"));
        assert_eq!(script_src.matches("'sha256-").count(), 1, "{script_src}");
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
