//! Requests the HTTP layer cannot read answered in problem+json like every other error.
//!
//! actix-http answers a request head it cannot parse itself, before any application code runs:
//! 400 with an empty body (a URL over 64 KiB, which the `http` crate's URI type cannot hold, a
//! malformed request line or header) and 431 with an empty body (a head over 128 KiB). The server
//! therefore runs actix-http's HTTP/1 service over a connection type of ours that recognises those
//! two answers as actix-http writes them (the status line and `content-length: 0` first, the last
//! thing on a connection it then closes) and writes a problem document instead. A handler's own
//! 400 always has a problem body, so it never matches.

use actix_http::{body::MessageBody, HttpService, Request, Response};
use actix_server::Server;
use actix_service::{
    fn_service, map_config, IntoServiceFactory, Service, ServiceFactory, ServiceFactoryExt as _,
};
use actix_web::dev::AppConfig;
use std::io;
use std::net::TcpListener;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The answers actix-http writes for heads it cannot read, and what replaces each.
const UNREADABLE: &[(&[u8], u16, &str, &str)] = &[
    (
        b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
        400,
        "Bad Request",
        "the request could not be read: its request line or a header is malformed, or its URL \
         is longer than 64 KiB",
    ),
    (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n",
        431,
        "Request Header Fields Too Large",
        "the request's line and headers are larger than 128 KiB together",
    ),
];

/// The problem response that replaces `written`, if it is one of actix-http's bodiless answers.
fn replacement(written: &[u8]) -> Option<Vec<u8>> {
    let (_, status, title, detail) = UNREADABLE
        .iter()
        .find(|(prefix, ..)| written.starts_with(prefix))?;
    let code = actix_web::http::StatusCode::from_u16(*status).ok()?;
    let body =
        serde_json::to_string(&crate::error::problem(code, Some((*detail).into()), None)).ok()?;
    Some(
        format!(
            "HTTP/1.1 {status} {title}\r\ncontent-type: application/problem+json\r\n\
             content-length: {}\r\ncache-control: no-store\r\nx-content-type-options: nosniff\r\n\
             connection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// A TCP connection whose writes pass through, except the answers above.
pub struct Connection {
    io: TcpStream,
    /// The problem being written, how much of it is out, and the length of what it replaces.
    replacing: Option<(Vec<u8>, usize, usize)>,
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.replacing.is_none() {
            match replacement(buf) {
                Some(problem) => self.replacing = Some((problem, 0, buf.len())),
                None => return Pin::new(&mut self.io).poll_write(cx, buf),
            }
        }
        let this = &mut *self;
        let Some((problem, sent, replaced)) = this.replacing.as_mut() else {
            unreachable!("set above")
        };
        while *sent < problem.len() {
            let n = ready!(Pin::new(&mut this.io).poll_write(cx, &problem[*sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *sent += n;
        }
        let replaced = *replaced;
        this.replacing = None;
        Poll::Ready(Ok(replaced))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// What `HttpServer::new(factory).listen(listener)?.shutdown_timeout(10).run()` does, with the
/// connection type above: actix-http's HTTP/1 service with its default keep-alive and request
/// timeouts, one worker per core.
pub fn run<F, I, S, B>(listener: TcpListener, factory: F) -> io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: std::fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    listener.set_nonblocking(true)?;
    Ok(Server::build()
        .shutdown_timeout(10)
        .listen("provisio", listener, move || {
            let app = factory()
                .into_factory()
                .map_err(|err| err.into().error_response());
            fn_service(|io: TcpStream| async move {
                // Without it a compressed answer, written as headers and then chunks, waits for
                // the client's delayed ACK (40 ms on Linux) before its second segment leaves:
                // Nagle's algorithm holds small writes while one is unacknowledged. Neither
                // actix-web nor actix-http sets it by default.
                let _ = io.set_nodelay(true);
                let peer = io.peer_addr().ok();
                Ok((
                    Connection {
                        io,
                        replacing: None,
                    },
                    peer,
                ))
            })
            .and_then(HttpService::build().h1(map_config(app, |_| AppConfig::default())))
        })?
        .run())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_bodiless_answers_of_the_http_layer_are_replaced() {
        let empty_400 =
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\ndate: x\r\n\r\n";
        let problem = String::from_utf8(replacement(empty_400).unwrap()).unwrap();
        assert!(
            problem.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{problem}"
        );
        assert!(problem.contains("application/problem+json"), "{problem}");
        assert!(problem.contains("longer than 64 KiB"), "{problem}");
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 96\r\ncontent-type: application/problem+json\r\n\r\n{}";
        assert!(replacement(ours).is_none());
        assert!(replacement(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
    }
}
