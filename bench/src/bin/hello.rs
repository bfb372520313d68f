//! The ceiling: the smallest actix-web server answering a small JSON body, on the same runtime
//! defaults as Provisio. `bench-hello 127.0.0.1:PORT`.

use actix_web::{get, App, HttpResponse, HttpServer};

#[get("/")]
async fn hello() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"hello":"world"}"#)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18090".into());
    HttpServer::new(|| App::new().service(hello))
        .bind(bind)?
        .run()
        .await
}
