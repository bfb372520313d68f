//! Infrastructure below the domain: wrappers around external programs (every one runs from an
//! argv vector, never a shell string), the execution log they write to, and the network policy
//! every outbound connection is checked against. Nothing here imports `domain`, `http` or `jobs`.

pub mod ansible;
pub mod egress;
pub mod git;
pub mod log;
pub mod network_policy;
pub mod sandbox;
pub mod ssh;
pub mod terraform;
pub mod tunnel;
