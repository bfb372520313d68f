use anyhow::Context;
use api::config::Config;
use api::domain;
use api::keys::Keys;
use api::server::startup::{prepare_database, Application};
use api::server::{openapi, telemetry};
use clap::{Parser, Subcommand};
use shared::dto::CreateUser;
use shared::Role;
use std::io::BufRead;

/// mimalloc for every allocation in the process: Rust's through this, and C's (SQLite, OpenSSL)
/// through the `override` feature, which replaces `malloc`/`free` at link time. Under the
/// realistic benchmark glibc's allocator was ~15 % of the server's CPU (`_int_malloc`,
/// `malloc_consolidate`, `unlink_chunk`, arena lock waits between SQLite's worker threads), and
/// its per-thread arenas kept memory after a burst; see bench/RESULTS.md for the A/B.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "provisio",
    version,
    about = "Self-hosted infrastructure self-service portal"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the API server and web app (the default).
    Serve {
        /// Seed demo accounts for each role and print their passwords once.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an administrator. The password is read from PROVISIO_ADMIN_PASSWORD or the first line of stdin.
    CreateAdmin {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        full_name: String,
    },
    /// Run job workers only (provisioning, server operations), without the HTTP server.
    Worker {
        /// How many jobs this process runs at once (default: PROVISIO_WORKERS).
        #[arg(long)]
        count: Option<usize>,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Replace the master key: write a new key to the key file (keeping the old one as previous)
    /// and re-seal every stored secret with it. Stop servers and workers first, start them after.
    RotateMasterKey {
        /// Second phase: drop the previous keys once nothing is sealed with them.
        #[arg(long)]
        finish: bool,
    },
}

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve { demo: false });
    if let Command::Openapi = command {
        print!("{}", openapi::spec_json());
        return Ok(());
    }
    let config = Config::from_env()?;
    let log_writer = telemetry::init(config.log_json);
    match command {
        Command::Serve { demo } => {
            let started = std::time::Instant::now();
            let keys = Keys::load_or_create(&config.key_file)?;
            let app = Application::build(config.clone(), keys).await?;
            domain::ssh_keys::service_key(&app.state).await?;
            if demo {
                print_demo_accounts(
                    &domain::seed::seed_demo(&app.state.db)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?,
                );
            }
            tokio::spawn(api::domain::notify::run_delivery_loop(app.state.clone()));
            let _workers = api::jobs::spawn_workers(&app.state, config.jobs.workers);
            tracing::info!(
                url = %format!("http://{}:{}", config.bind.ip(), app.port()),
                startup_ms = started.elapsed().as_millis() as u64,
                "Provisio is listening"
            );
            app.run_until_stopped().await?;
        }
        Command::Worker { count } => {
            let keys = Keys::load_or_create(&config.key_file)?;
            let db = prepare_database(&config).await?;
            let count = count.unwrap_or(config.jobs.workers).max(1);
            let mut config = config.clone();
            config.jobs.workers = count;
            let state = api::server::startup::build_state(config, db, keys);
            let stop = api::jobs::spawn_workers(&state, count);
            tracing::info!(count, "Provisio workers running; Ctrl-C stops them");
            tokio::signal::ctrl_c().await?;
            let _ = stop.send(true);
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        Command::RotateMasterKey { finish } => {
            let db = prepare_database(&config).await?;
            if finish {
                let dropped = domain::key_rotation::finish(&db, &config.key_file).await?;
                println!(
                    "dropped {dropped} previous master key(s) from {}",
                    config.key_file.display()
                );
            } else {
                let report = domain::key_rotation::rotate(&db, &config.key_file).await?;
                if report.generated_key {
                    println!("new master key written to {}", config.key_file.display());
                } else {
                    println!(
                        "resumed the pending rotation in {}",
                        config.key_file.display()
                    );
                }
                for tally in &report.tallies {
                    println!(
                        "{}: {} re-sealed, {} already current",
                        tally.kind, tally.resealed, tally.current
                    );
                }
                println!(
                    "restart every serve and worker process, then run rotate-master-key --finish"
                );
            }
        }
        Command::Migrate => {
            prepare_database(&config).await?;
            println!("migrations applied");
        }
        Command::CreateAdmin {
            username,
            email,
            full_name,
        } => {
            let password = match std::env::var("PROVISIO_ADMIN_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => {
                    eprintln!("password (one line on stdin):");
                    let mut line = String::new();
                    std::io::stdin()
                        .lock()
                        .read_line(&mut line)
                        .context("could not read the password")?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let db = prepare_database(&config).await?;
            let context = api::auth::RequestContext {
                ip: std::net::IpAddr::from([127, 0, 0, 1]),
                request_id: None,
            };
            let input = CreateUser {
                username,
                email,
                full_name,
                password,
                roles: vec![Role::Admin],
                team_ids: vec![],
            };
            match domain::users::create(&db, &context, None, input, domain::users::Admission::READY)
                .await
            {
                Ok(user) => println!("administrator {} created ({})", user.username, user.id),
                Err(api::error::ApiError::Validation(errors)) => {
                    for (field, messages) in errors {
                        eprintln!("{field}: {}", messages.join("; "));
                    }
                    drop(log_writer);
                    std::process::exit(2);
                }
                Err(e) => return Err(anyhow::anyhow!("could not create the administrator: {e}")),
            }
        }
        Command::Openapi => unreachable!("handled before configuration is read"),
    }
    Ok(())
}

fn print_demo_accounts(accounts: &[domain::seed::DemoAccount]) {
    println!("Demo accounts (passwords are shown once; they are stored only as argon2id hashes):");
    for a in accounts {
        match &a.password {
            Some(p) => println!("  {:<10} {:<16} password: {p}", a.username, a.role.as_str()),
            None => println!(
                "  {:<10} {:<16} (already existed; password unchanged)",
                a.username,
                a.role.as_str()
            ),
        }
    }
}
