//! Response compression that negotiates only for answers that still need it.
//!
//! actix's `Compress` parses `Accept-Encoding` and negotiates before every request. Here the
//! handler answers first: remembered answers ([`crate::cache`]) arrive already gzipped, assets
//! arrive precompressed ([`crate::spa`]), and empty answers have nothing to compress, so none of
//! them pays for the parse. The rest are negotiated exactly as `Compress` does (actix's parser and
//! preference order) and encoded by actix's encoder. One difference, by design: a request that
//! accepts none of the codings gets the answer uncompressed (RFC 9110 §12.5.3 allows it) instead
//! of a 406 sent after the handler has already done its work.

use actix_http::encoding::Encoder;
use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    AcceptEncoding, ContentEncoding, Encoding, Header, CONTENT_ENCODING, CONTENT_TYPE,
};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::mime;
use actix_web::HttpRequest;

/// What this build can encode, in the order ties are broken (actix's `Compress` order).
const SUPPORTED: [Encoding; 4] = [
    Encoding::identity(),
    Encoding::brotli(),
    Encoding::gzip(),
    Encoding::deflate(),
];

pub async fn compress(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<Encoder<impl MessageBody>>, actix_web::Error> {
    let res = next.call(req).await?;
    let encoding = if needs_encoding(&res) {
        negotiate(res.request(), &SUPPORTED)
    } else {
        ContentEncoding::Identity
    };
    Ok(res.map_body(move |head, body| Encoder::response(encoding, head, body)))
}

fn needs_encoding<B: MessageBody>(res: &ServiceResponse<B>) -> bool {
    let head = res.response().head();
    !head.headers.contains_key(CONTENT_ENCODING)
        && !matches!(
            head.status,
            StatusCode::SWITCHING_PROTOCOLS | StatusCode::NO_CONTENT | StatusCode::PARTIAL_CONTENT
        )
        && !matches!(
            res.response().body().size(),
            BodySize::None | BodySize::Sized(0)
        )
        && compressible(head.headers.get(CONTENT_TYPE))
}

/// Images other than SVG and videos are compressed already.
fn compressible(content_type: Option<&actix_web::http::header::HeaderValue>) -> bool {
    let Some(mime) = content_type
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<mime::Mime>().ok())
    else {
        return true;
    };
    match mime.type_() {
        mime::IMAGE => mime.subtype() == mime::SVG,
        mime::VIDEO => false,
        _ => true,
    }
}

/// The coding `req` prefers among `supported`, as actix's [`AcceptEncoding::negotiate`] ranks
/// them; identity when it sent no preference, an unreadable one, or accepts none of them.
pub fn negotiate(req: &HttpRequest, supported: &[Encoding]) -> ContentEncoding {
    match AcceptEncoding::parse(req)
        .ok()
        .and_then(|accept| accept.negotiate(supported.iter()))
    {
        Some(Encoding::Known(encoding)) => encoding,
        _ => ContentEncoding::Identity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn negotiated(accept: &str) -> ContentEncoding {
        negotiate(
            &TestRequest::default()
                .insert_header(("accept-encoding", accept))
                .to_http_request(),
            &SUPPORTED,
        )
    }

    #[test]
    fn negotiation_follows_the_clients_preferences() {
        assert_eq!(
            negotiated("gzip, deflate, br, zstd"),
            ContentEncoding::Brotli
        );
        assert_eq!(negotiated("gzip"), ContentEncoding::Gzip);
        assert_eq!(negotiated("br;q=0.5, gzip"), ContentEncoding::Gzip);
        assert_eq!(negotiated("deflate"), ContentEncoding::Deflate);
        assert_eq!(negotiated("identity"), ContentEncoding::Identity);
        assert_eq!(negotiated("zstd"), ContentEncoding::Identity);
        assert_eq!(negotiated("*;q=0"), ContentEncoding::Identity);
        assert_eq!(
            negotiate(&TestRequest::default().to_http_request(), &SUPPORTED),
            ContentEncoding::Identity
        );
    }

    #[test]
    fn only_media_not_compressed_already_is_compressible() {
        let of = |value: &'static str| {
            compressible(Some(&actix_web::http::header::HeaderValue::from_static(
                value,
            )))
        };
        assert!(of("application/json"));
        assert!(of("text/event-stream"));
        assert!(of("image/svg+xml"));
        assert!(!of("image/png"));
        assert!(!of("video/mp4"));
        assert!(compressible(None));
    }
}
