//! Runs user code (playbooks, whose tasks may run on this host with `delegate_to: localhost`;
//! terminal programs, which run what a checkout's Makefile or git config says) inside a
//! bubblewrap sandbox: a private mount namespace that holds only the system's programs and
//! libraries, the few files of /etc they need, the program's own install (its virtualenv) and
//! the places the caller names, as an unprivileged user in new PID and IPC namespaces. The key
//! file, the database, the service's environment, other runs' directories and other projects'
//! checkouts are not in it at all.
//!
//! Playbooks get no network at all: their SSH connections leave through unix sockets that
//! `exec::ansible` forwards to each inventory host, so a task on this host cannot reach the
//! database port or any other service. Terminal programs get no network either: their way out
//! is `exec::egress`'s proxy, which lets through what the network policy allows for Git and
//! never the database's port.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use tokio::process::Command;

/// Files of /etc that programs in the sandbox read: users and groups (ssh looks its user up),
/// name resolution, TLS roots, the dynamic linker's cache, the time zone. Never /etc as a whole:
/// it may hold the service's environment file and, root-owned, keys that the sandbox user (root
/// outside, mapped to nobody inside) would own.
const ETC: &[&str] = &[
    "/etc/passwd",
    "/etc/group",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/nsswitch.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/protocols",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/alternatives",
    "/etc/ssh/ssh_config",
    "/etc/ssh/ssh_config.d",
    "/etc/mime.types",
];

/// `program` on PATH, or as given when it names a path.
pub fn resolve(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 {
        return std::fs::canonicalize(program).ok();
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .and_then(|found| std::fs::canonicalize(found).ok())
}

/// The installation a program outside /usr belongs to (a virtualenv: `<root>/bin/<program>`),
/// which the sandbox must see read-only.
fn install_root(program: &Path) -> Option<PathBuf> {
    if program.starts_with("/usr") {
        return None;
    }
    let bin = program.parent()?;
    Some(bin.parent().unwrap_or(bin).to_path_buf())
}

/// What a sandboxed program may see besides the system.
pub struct Places<'a> {
    /// Bound read-write; the first is the working directory.
    pub writable: &'a [&'a Path],
    /// Bound read-only, those that exist.
    pub readable: &'a [&'a Path],
    /// Whether the program shares the host's network. Without it, it reaches nothing but the
    /// unix sockets in its writable places (no database port, no other service of the host's).
    pub network: bool,
    /// Runs first, with the program's argv after it (`exec::egress`'s relay); usually empty.
    pub launcher: &'a [OsString],
}

/// The full argv (bubblewrap first) that runs `program` with `args` in the sandbox. `bwrap` and
/// `program` are looked up on PATH when they are bare names.
pub fn argv(
    bwrap: &Path,
    program: &Path,
    args: &[OsString],
    places: &Places<'_>,
) -> Result<Vec<OsString>, String> {
    let bwrap = resolve(bwrap).ok_or_else(|| {
        format!(
            "{} (bubblewrap) is not installed: playbooks and terminal programs run in its \
             sandbox. Install it (apt install bubblewrap), or set PROVISIO_SANDBOX=off to run \
             them as the service itself",
            bwrap.display()
        )
    })?;
    let program = resolve(program)
        .ok_or_else(|| format!("{} was not found on this host", program.display()))?;
    let mut argv: Vec<OsString> = std::iter::once(bwrap.into_os_string())
        .chain(
            [
                "--die-with-parent",
                "--unshare-user",
                "--uid",
                "65534",
                "--gid",
                "65534",
                "--unshare-pid",
                "--unshare-ipc",
                "--unshare-uts",
                "--unshare-cgroup-try",
                "--ro-bind",
                "/usr",
                "/usr",
                "--symlink",
                "usr/bin",
                "/bin",
                "--symlink",
                "usr/sbin",
                "/sbin",
                "--symlink",
                "usr/lib",
                "/lib",
                "--proc",
                "/proc",
                "--dev",
                "/dev",
                "--tmpfs",
                "/tmp",
                "--tmpfs",
                "/run",
                "--tmpfs",
                "/var/tmp",
            ]
            .iter()
            .map(OsString::from),
        )
        .collect();
    if Path::new("/lib64").exists() {
        argv.extend(["--symlink", "usr/lib64", "/lib64"].map(OsString::from));
    }
    if !places.network {
        argv.push("--unshare-net".into());
    }
    for file in ETC {
        argv.extend(["--ro-bind-try", file, file].map(OsString::from));
    }
    if let Some(root) = install_root(&program) {
        argv.extend([
            OsString::from("--ro-bind"),
            root.clone().into(),
            root.into(),
        ]);
    }
    for place in places.readable.iter().filter(|p| p.exists()) {
        argv.extend([OsString::from("--ro-bind"), place.into(), place.into()]);
    }
    for place in places.writable {
        argv.extend([OsString::from("--bind"), place.into(), place.into()]);
    }
    if let Some(cwd) = places.writable.first() {
        argv.extend([OsString::from("--chdir"), cwd.into()]);
    }
    argv.push("--".into());
    argv.extend(places.launcher.iter().cloned());
    argv.push(program.into());
    argv.extend(args.iter().cloned());
    Ok(argv)
}

/// A tokio command for `program` in the sandbox with `workdir` as its only writable place (and
/// its working directory), `readable` shown read-only and no network; arguments are added to it
/// as to any command.
pub fn command(
    bwrap: &Path,
    program: &Path,
    workdir: &Path,
    readable: &[&Path],
) -> Result<Command, String> {
    let argv = argv(
        bwrap,
        program,
        &[],
        &Places {
            writable: &[workdir],
            readable,
            network: false,
            launcher: &[],
        },
    )?;
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_virtualenv_is_bound_and_system_programs_need_nothing_more() {
        assert_eq!(
            install_root(Path::new("/opt/provisio/.venv/bin/ansible-playbook")),
            Some(PathBuf::from("/opt/provisio/.venv"))
        );
        assert_eq!(install_root(Path::new("/usr/bin/ansible-playbook")), None);
    }
}
