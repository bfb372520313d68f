//! The ceiling: the smallest actix-web server answering a small JSON body, on the same runtime
//! defaults as Provisio. `bench-hello 127.0.0.1:PORT [BODY_FILE]`: with a file, it answers that
//! file's bytes instead (the same-size ceiling of an endpoint whose answer it holds).

use actix_web::web::{Bytes, Data};
use actix_web::{get, App, HttpResponse, HttpServer};

#[get("/")]
async fn hello(body: Data<Bytes>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(Bytes::clone(&body))
}

fn main() -> std::io::Result<()> {
    // The same start-up as `provisio` (string functions off AVX-512 where that applies).
    actix_web::rt::System::new().block_on(serve())
}

async fn serve() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18090".into());
    let body = match std::env::args().nth(2) {
        Some(path) => Bytes::from(std::fs::read(path)?),
        None => Bytes::from_static(br#"{"hello":"world"}"#),
    };
    let body = Data::new(body);
    HttpServer::new(move || App::new().app_data(body.clone()).service(hello))
        .bind(bind)?
        .run()
        .await
}
