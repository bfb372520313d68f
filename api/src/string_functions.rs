//! glibc chooses its string functions (memcmp, memcpy, strlen…) once, when the process starts,
//! from the CPU's features. On x86-64 CPUs with AVX-512 it chooses EVEX versions, which use the
//! AVX-512 registers (ymm16-31 and the opmask registers). On the virtual Xeon this project is
//! measured on, the first such instruction after a thread wakes costs about a microsecond: the one
//! memcmp actix's router makes per request (the `/api` prefix) was 7 % of the server's CPU for a
//! remembered list answer, while the AVX2 versions do not show in the profile, and the same
//! answer came 12 % faster with them (docs/operations.md). A server thread
//! sleeps and wakes between requests, so it pays this on nearly every one.
//!
//! The choice cannot be changed in a running process: [`prefer_avx2`] starts the program again
//! in place (same process id, same arguments) with `GLIBC_TUNABLES` masking AVX-512, before any
//! thread exists. An operator who sets `GLIBC_TUNABLES` (even empty) keeps their own choice.

/// The glibc tunable that keeps string functions off AVX-512 (AVX2 versions are used instead).
pub const AVX2_STRING_FUNCTIONS: &str =
    "glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD";

/// Whether this process should start again with [`AVX2_STRING_FUNCTIONS`]: nobody chose
/// tunables for it and [`restart_wanted_on_this_cpu`].
fn restart_wanted() -> bool {
    std::env::var_os("GLIBC_TUNABLES").is_none() && restart_wanted_on_this_cpu()
}

/// Built for glibc on x86-64 and running on a CPU with the AVX-512 features glibc's EVEX string
/// functions need.
pub fn restart_wanted_on_this_cpu() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
    {
        std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512bw")
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64")))]
    {
        false
    }
}

/// Starts this program again in place with AVX2 string functions when [`restart_wanted`];
/// returns (and the process goes on as it is) otherwise or if that fails. Call it first in
/// `main`, before any thread starts.
pub fn prefer_avx2() {
    if !restart_wanted() {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let mut args = std::env::args_os();
        let mut command = std::process::Command::new("/proc/self/exe");
        if let Some(program) = args.next() {
            command.arg0(program);
        }
        // `exec` only returns on failure (no /proc, say); the process then carries on unchanged.
        let _ = command
            .args(args)
            .env("GLIBC_TUNABLES", AVX2_STRING_FUNCTIONS)
            .exec();
    }
}
