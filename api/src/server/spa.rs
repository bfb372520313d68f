//! Serves the web app: embedded in the binary (or from PROVISIO_WEB_DIR), with client-side
//! routes falling back to index.html and unknown `/api` paths answering problem+json 404.

use crate::error::{problem, problem_response};
use actix_web::http::header::{AcceptEncoding, ContentEncoding, Encoding, Header};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

#[derive(RustEmbed)]
#[folder = "../web/dist"]
#[allow_missing = true]
struct Embedded;

#[derive(Clone)]
pub struct WebAssets {
    pub dir: Option<PathBuf>,
}

/// A brotli and/or gzip variant of one embedded file, made by build.rs from the same web/dist.
struct Precompressed {
    path: &'static str,
    /// Length and FNV-1a hash of the file the variants were made from.
    len: usize,
    hash: u64,
    br: Option<&'static [u8]>,
    gzip: Option<&'static [u8]>,
}

static PRECOMPRESSED: &[Precompressed] = include!(concat!(env!("OUT_DIR"), "/precompressed.rs"));

/// The bytes of a file: borrowed from the binary or read from PROVISIO_WEB_DIR.
type Asset = Cow<'static, [u8]>;

/// One way of sending a file: its bytes and, unless identity, their `Content-Encoding`.
struct Variant {
    body: Asset,
    encoding: Option<ContentEncoding>,
}

impl WebAssets {
    pub fn index_html(&self) -> Option<Asset> {
        self.read("index.html")
    }

    fn read(&self, path: &str) -> Option<Asset> {
        match &self.dir {
            Some(dir) => {
                if !is_plain_relative(path) {
                    return None;
                }
                std::fs::read(dir.join(path)).ok().map(Cow::Owned)
            }
            None => Embedded::get(path).map(|f| f.data),
        }
    }

    /// The file in the best encoding the client accepts among those available: the variants
    /// build.rs made for the embedded bundle, or `<file>.br` / `<file>.gz` next to a file in
    /// PROVISIO_WEB_DIR when they are at least as new as the file.
    fn read_negotiated(&self, path: &str, req: &HttpRequest) -> Option<Variant> {
        let body = self.read(path)?;
        let identity = |body| Variant {
            body,
            encoding: None,
        };
        if !req.headers().contains_key(header::ACCEPT_ENCODING) {
            return Some(identity(body));
        }
        let (br, gzip) = match &self.dir {
            Some(dir) => {
                let modified = |file: &Path| std::fs::metadata(file).and_then(|m| m.modified());
                let original = modified(&dir.join(path));
                let sibling = |suffix: &str| {
                    let file = dir.join(format!("{path}.{suffix}"));
                    let fresh = matches!((modified(&file), &original), (Ok(m), Ok(o)) if m >= *o);
                    fresh.then_some(Source::File(file))
                };
                (sibling("br"), sibling("gz"))
            }
            None => match PRECOMPRESSED.iter().find(|p| p.path == path) {
                // In release builds both come from web/dist at compile time; debug builds of
                // rust-embed read the file from disk, which may have changed since.
                Some(p)
                    if body.len() == p.len
                        && (!cfg!(debug_assertions) || fnv1a(&body) == p.hash) =>
                {
                    (p.br.map(Source::Embedded), p.gzip.map(Source::Embedded))
                }
                _ => (None, None),
            },
        };
        let mut supported = vec![Encoding::identity()];
        if br.is_some() {
            supported.push(Encoding::brotli());
        }
        if gzip.is_some() {
            supported.push(Encoding::gzip());
        }
        let chosen = match negotiate(req, &supported) {
            ContentEncoding::Brotli => br.zip(Some(ContentEncoding::Brotli)),
            ContentEncoding::Gzip => gzip.zip(Some(ContentEncoding::Gzip)),
            _ => None,
        };
        Some(
            match chosen.and_then(|(source, encoding)| Some((source.load()?, encoding))) {
                Some((body, encoding)) => Variant {
                    body,
                    encoding: Some(encoding),
                },
                None => identity(body),
            },
        )
    }
}

/// Where a compressed variant is, before it is read.
enum Source {
    Embedded(&'static [u8]),
    File(PathBuf),
}

impl Source {
    fn load(self) -> Option<Asset> {
        match self {
            Source::Embedded(bytes) => Some(Cow::Borrowed(bytes)),
            Source::File(file) => std::fs::read(file).ok().map(Cow::Owned),
        }
    }
}

/// Only plain relative names: no `..`, no absolute paths.
fn is_plain_relative(path: &str) -> bool {
    !path.split('/').any(|part| part == ".." || part.is_empty())
}

/// FNV-1a 64, as computed by build.rs.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub async fn serve(req: HttpRequest, assets: web::Data<WebAssets>) -> HttpResponse {
    let path = req.path().trim_start_matches('/');
    // Documented operations (under /api, and /healthz, /readyz, /metrics) asked with a method
    // they do not take.
    if let Some(allowed) = super::openapi::methods_at(req.path()) {
        return method_not_allowed(&req, &allowed);
    }
    if path == "api" || path.starts_with("api/") {
        let status = StatusCode::NOT_FOUND;
        return problem_response(
            status,
            &problem(status, Some("no such API endpoint".into()), None),
        );
    }
    if !path.is_empty() {
        if let Some(variant) = assets.read_negotiated(path, &req) {
            let mime = mime_guess::from_path(path).first_or_octet_stream();
            let mut res = HttpResponse::Ok();
            res.insert_header((header::CONTENT_TYPE, mime.as_ref()))
                .insert_header((header::CACHE_CONTROL, "no-cache"))
                .insert_header((header::VARY, "Accept-Encoding"));
            if let Some(encoding) = variant.encoding {
                res.insert_header((header::CONTENT_ENCODING, encoding.as_str()));
            }
            return match variant.body {
                Cow::Borrowed(bytes) => res.body(bytes),
                Cow::Owned(bytes) => res.body(bytes),
            };
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
            .insert_header((header::CONTENT_SECURITY_POLICY, crate::server::web_security::app_policy(&body)))
            .body(body.into_owned()),
        None => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("The web app is not built. Run scripts/run.sh (it builds web/ with Trunk) or set PROVISIO_WEB_DIR."),
    }
}

/// The coding `req` prefers among the variants `supported`, as actix's
/// [`AcceptEncoding::negotiate`] ranks them; identity when it sent no preference, an unreadable
/// one, or accepts none of them.
fn negotiate(req: &HttpRequest, supported: &[Encoding]) -> ContentEncoding {
    match AcceptEncoding::parse(req)
        .ok()
        .and_then(|accept| accept.negotiate(supported.iter()))
    {
        Some(Encoding::Known(encoding)) => encoding,
        _ => ContentEncoding::Identity,
    }
}

/// 405 with `Allow`, as problem+json.
pub fn method_not_allowed(req: &HttpRequest, allowed: &[&str]) -> HttpResponse {
    let status = StatusCode::METHOD_NOT_ALLOWED;
    let allowed = allowed.join(", ");
    let mut response = problem_response(
        status,
        &problem(
            status,
            Some(format!(
                "{} does not take {}; it answers {allowed}",
                req.path(),
                req.method()
            )),
            None,
        ),
    );
    if let Ok(value) = header::HeaderValue::from_str(&allowed) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::{fnv1a, Embedded, PRECOMPRESSED};
    use actix_web::http::header::ContentEncoding;

    async fn decompress(body: &'static [u8], encoding: ContentEncoding) -> Vec<u8> {
        use futures_util::StreamExt;
        let stream = futures_util::stream::once(async move {
            Ok::<_, actix_web::error::PayloadError>(actix_web::web::Bytes::from_static(body))
        });
        let mut decoder = actix_web::dev::Decompress::new(Box::pin(stream), encoding);
        let mut out = Vec::new();
        while let Some(chunk) = decoder.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        out
    }

    /// Empty unless web/dist was built before this crate; then every variant must restore its file.
    #[tokio::test]
    async fn precompressed_variants_decompress_to_the_embedded_files() {
        for p in PRECOMPRESSED {
            let data = Embedded::get(p.path)
                .expect("variant of an embedded file")
                .data;
            assert_eq!((data.len(), fnv1a(&data)), (p.len, p.hash), "{}", p.path);
            if let Some(br) = p.br {
                assert!(br.len() < data.len());
                assert!(
                    decompress(br, ContentEncoding::Brotli).await == *data,
                    "{}",
                    p.path
                );
            }
            if let Some(gzip) = p.gzip {
                assert!(gzip.len() < data.len());
                assert!(
                    decompress(gzip, ContentEncoding::Gzip).await == *data,
                    "{}",
                    p.path
                );
            }
        }
    }
}
