//! The project terminal: a WebSocket session in a project's checkout that runs, in a PTY, only
//! commands whose program an administrator allowed. The messages of both directions, the
//! settings, and the command-line rules (quoting without any expansion) shared by API and web.

use crate::validation::{FieldErrors, Validator};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TerminalSettings {
    /// Program names (looked up on the server's PATH) a terminal may start, e.g. `git`, `make`,
    /// an AI coding assistant's CLI. Whatever a listed program can do, its users can do in the
    /// checkout: list only what you trust them with.
    pub allowed_commands: Vec<String>,
    /// A session with neither input nor output for this long is closed.
    pub idle_timeout_secs: u32,
}

impl Default for TerminalSettings {
    fn default() -> Self {
        TerminalSettings {
            allowed_commands: vec!["git".into(), "make".into()],
            idle_timeout_secs: 900,
        }
    }
}

pub fn program_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with(['-', '.'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?}: a program name (letters, digits, '.', '_', '+', '-'), not a path"
        ))
    }
}

impl TerminalSettings {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut v = Validator::new();
        for name in &self.allowed_commands {
            v.check("allowed_commands", program_name(name));
        }
        if self.allowed_commands.len() > 50 {
            v.check(
                "allowed_commands",
                Err("allow at most 50 programs; remove some".into()),
            );
        }
        if !(1..=86_400).contains(&self.idle_timeout_secs) {
            v.check(
                "idle_timeout_secs",
                Err("choose from 1 second to 24 hours (86400 seconds)".into()),
            );
        }
        v.finish()
    }

    /// Whether `argv` may start: its program is listed by name.
    pub fn permits(&self, argv: &[String]) -> Result<(), String> {
        let program = argv.first().ok_or("an empty command line")?;
        program_name(program)?;
        if self.allowed_commands.iter().any(|a| a == program) {
            Ok(())
        } else if self.allowed_commands.is_empty() {
            Err("no program is allowed in terminals; an administrator lists them".into())
        } else {
            Err(format!(
                "{program} is not allowed here; allowed: {}",
                self.allowed_commands.join(", ")
            ))
        }
    }
}

/// What the browser sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Starts a program (argv, never a shell line) when none is running.
    Run {
        argv: Vec<String>,
    },
    /// Keystrokes for the running program.
    Input {
        data: String,
    },
    Resize {
        cols: u16,
        rows: u16,
    },
    /// Ctrl-C for the running program.
    Interrupt,
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Ready {
        project: String,
        allowed_commands: Vec<String>,
        idle_timeout_secs: u32,
    },
    Started {
        argv: Vec<String>,
    },
    Output {
        data: String,
    },
    /// The program ended: its exit code, or the signal that ended it.
    Exit {
        code: Option<i32>,
        signal: Option<String>,
    },
    /// A refused or failed request; the session goes on.
    Error {
        message: String,
    },
    /// The session ends (idle timeout, server shutdown).
    Closed {
        reason: String,
    },
}

/// Splits a typed command line into argv like a shell would split words — single and double
/// quotes, backslash escapes — but expands nothing: no variables, globs, pipes or redirections
/// (those characters are ordinary text).
pub fn split_command_line(line: &str) -> Result<Vec<String>, String> {
    let mut argv = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err("a single quote is not closed".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\')) => word.push(ch),
                            Some(ch) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => return Err("a double quote is not closed".into()),
                        },
                        Some(ch) => word.push(ch),
                        None => return Err("a double quote is not closed".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(ch) => word.push(ch),
                    None => return Err("a backslash ends the line".into()),
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    argv.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        argv.push(word);
    }
    Ok(argv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_split_into_words_without_expansion() {
        assert_eq!(
            split_command_line(r#"git commit -m "fix: a \"quoted\" word" --author='A B'"#).unwrap(),
            [
                "git",
                "commit",
                "-m",
                r#"fix: a "quoted" word"#,
                "--author=A B"
            ]
        );
        assert_eq!(
            split_command_line("make $HOME *.rs | rm -rf / ; id").unwrap(),
            ["make", "$HOME", "*.rs", "|", "rm", "-rf", "/", ";", "id"]
        );
        assert_eq!(split_command_line("  ").unwrap(), Vec::<String>::new());
        assert_eq!(split_command_line(r"a\ b ''").unwrap(), ["a b", ""]);
        assert!(split_command_line("echo 'open").is_err());
    }

    #[test]
    fn only_listed_program_names_start() {
        let settings = TerminalSettings::default();
        assert!(settings.permits(&["git".into(), "status".into()]).is_ok());
        for refused in [
            vec!["sh".to_string(), "-c".into(), "id".into()],
            vec!["/usr/bin/git".into()],
            vec!["./git".into()],
            vec![],
        ] {
            assert!(settings.permits(&refused).is_err(), "{refused:?}");
        }
        let none = TerminalSettings {
            allowed_commands: vec![],
            idle_timeout_secs: 60,
        };
        assert!(none
            .permits(&["git".into()])
            .unwrap_err()
            .contains("administrator"));
    }

    #[test]
    fn settings_name_programs_not_paths() {
        let bad = TerminalSettings {
            allowed_commands: vec!["/bin/sh".into(), "git".into()],
            idle_timeout_secs: 0,
        };
        let errors = bad.validate().unwrap_err();
        assert!(errors.contains_key("allowed_commands"));
        assert!(errors.contains_key("idle_timeout_secs"));
        assert!(TerminalSettings::default().validate().is_ok());
    }

    #[test]
    fn messages_are_tagged_json() {
        let run: ClientMessage =
            serde_json::from_str(r#"{"type":"run","argv":["git","status"]}"#).unwrap();
        assert_eq!(
            run,
            ClientMessage::Run {
                argv: vec!["git".into(), "status".into()]
            }
        );
        assert_eq!(
            serde_json::to_string(&ServerMessage::Exit {
                code: Some(0),
                signal: None
            })
            .unwrap(),
            r#"{"type":"exit","code":0,"signal":null}"#
        );
    }
}
