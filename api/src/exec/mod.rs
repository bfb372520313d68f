//! Wrappers around external programs; every one runs from an argv vector, never a shell string.

pub mod ansible;
pub mod git;
pub mod ssh;
pub mod terraform;
