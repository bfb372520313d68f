//! The `provisio` binary itself: migrate, create-admin, openapi, and serve with and without --demo.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("provisio-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn provisio(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_provisio"));
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("DB_HOST")
        .env("PROVISIO_KEY_FILE", dir.join("provisio.key"))
        .env("RUST_LOG", "warn");
    cmd
}

#[test]
fn openapi_command_prints_the_committed_document() {
    let out = Command::new(env!("CARGO_BIN_EXE_provisio"))
        .arg("openapi")
        .output()
        .unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../openapi/openapi.json"
    ))
    .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), committed);
}

#[test]
fn migrate_then_create_admin_validates_and_creates_the_account() {
    let dir = scratch();
    let out = provisio(&dir).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.join("provisio.db").exists(),
        "the embedded default is ./provisio.db"
    );

    let weak = provisio(&dir)
        .args([
            "create-admin",
            "--username",
            "boss",
            "--email",
            "boss@example.com",
        ])
        .env("PROVISIO_ADMIN_PASSWORD", "short")
        .output()
        .unwrap();
    assert_eq!(weak.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&weak.stderr).contains("password: must be at least 12 characters")
    );

    let ok = provisio(&dir)
        .args([
            "create-admin",
            "--username",
            "boss",
            "--email",
            "boss@example.com",
        ])
        .env("PROVISIO_ADMIN_PASSWORD", "a-strong-admin-password")
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("administrator boss created"));

    // The password may also come from stdin, for scripts that do not want it in the environment.
    let mut child = provisio(&dir)
        .args([
            "create-admin",
            "--username",
            "boss2",
            "--email",
            "boss2@example.com",
        ])
        .env_remove("PROVISIO_ADMIN_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"another-strong-password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(dir).ok();
}

struct Server {
    child: std::process::Child,
    stdout: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path, demo: bool) -> (Server, u16, Duration) {
    let port = common::free_port();
    let mut cmd = provisio(dir);
    cmd.arg("serve")
        .env("PROVISIO_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if demo {
        cmd.arg("--demo");
    }
    let started = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            s.write_all(b"GET /readyz HTTP/1.0\r\n\r\n").unwrap();
            let mut response = String::new();
            let _ = s.read_to_string(&mut response);
            if response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200") {
                break;
            }
        }
        assert!(Instant::now() < deadline, "server did not become ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    let ready_after = started.elapsed();
    // Demo accounts are printed right after start; give the reader thread a moment.
    std::thread::sleep(Duration::from_millis(300));
    let stdout = lines.lock().unwrap().clone();
    (Server { child, stdout }, port, ready_after)
}

#[test]
fn serve_creates_a_private_key_file_and_seeds_demo_accounts_only_with_the_flag() {
    let dir = scratch();
    {
        let (server, _, _) = serve(&dir, false);
        assert!(
            !server.stdout.iter().any(|l| l.contains("password:")),
            "{:?}",
            server.stdout
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("provisio.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
    let key_before = std::fs::read(dir.join("provisio.key")).unwrap();
    {
        let (server, _, _) = serve(&dir, true);
        for role in ["admin", "technical_agent", "sales_agent", "requester"] {
            assert!(
                server
                    .stdout
                    .iter()
                    .any(|l| l.contains(role) && l.contains("password: ")),
                "no demo password line for {role}: {:?}",
                server.stdout
            );
        }
    }
    {
        let (server, _, _) = serve(&dir, true);
        assert!(
            server.stdout.iter().all(|l| !l.contains("password: ")),
            "passwords are printed only when created"
        );
    }
    assert_eq!(
        std::fs::read(dir.join("provisio.key")).unwrap(),
        key_before,
        "the key file is reused"
    );
    std::fs::remove_dir_all(dir).ok();
}
