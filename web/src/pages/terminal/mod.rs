//! The project terminal: a WebSocket session in the project's checkout. The user starts one of
//! the programs an administrator allowed (argv split here, never a shell line), reads its
//! output, and answers its prompts line by line.
//!
//! The output comes from a PTY: escape sequences are stripped (colours, cursor moves and
//! titles cannot be shown in a `<pre>`), `\r\n` ends a line and a lone `\r` lets the next text
//! overwrite the line, which keeps progress bars on one line.

mod history;
mod output;
mod page;
mod session;

pub use page::TerminalPage;
