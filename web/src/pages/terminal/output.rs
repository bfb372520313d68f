//! From the PTY's output chunks to lines of text.

/// An unfinished escape sequence longer than this is not one: it is dropped.
const MAX_CARRY: usize = 4096;

/// Removes terminal escape sequences (CSI, OSC and other strings, two-character escapes) and
/// control characters from `input`, keeping text, `\n`, `\r`, `\t` and backspace. Returns the
/// text and the tail of `input` that starts an escape sequence not finished yet: the rest of
/// it comes with the next chunk.
pub(super) fn strip_controls(input: &str) -> (String, &str) {
    let mut out = String::with_capacity(input.len());
    let mut chars = input.char_indices();
    while let Some((start, c)) = chars.next() {
        match c {
            '\x1b' => {
                let finished = match chars.next().map(|(_, k)| k) {
                    None => false,
                    // CSI: parameters and intermediates, then a final byte.
                    Some('[') => loop {
                        match chars.next().map(|(_, k)| k) {
                            Some('\x20'..='\x3f') => {}
                            Some(_) => break true,
                            None => break false,
                        }
                    },
                    // OSC, DCS, SOS, PM, APC: a string ended by BEL or ST (`ESC \`).
                    Some(']' | 'P' | 'X' | '^' | '_') => loop {
                        match chars.next().map(|(_, k)| k) {
                            Some('\x07') => break true,
                            Some('\x1b') => break chars.next().is_some(),
                            Some(_) => {}
                            None => break false,
                        }
                    },
                    // Intermediates, then a final byte (`ESC ( B`).
                    Some('\x20'..='\x2f') => loop {
                        match chars.next().map(|(_, k)| k) {
                            Some('\x20'..='\x2f') => {}
                            Some(_) => break true,
                            None => break false,
                        }
                    },
                    // Two characters: `ESC 7`, `ESC =`, `ESC M`…
                    Some(_) => true,
                };
                if !finished {
                    return (out, &input[start..]);
                }
            }
            '\n' | '\r' | '\t' | '\x08' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    (out, "")
}

/// Turns the program's output chunks into lines.
#[derive(Debug, Default)]
pub(super) struct OutputParser {
    /// The line the program is still writing.
    pub(super) current: String,
    /// An escape sequence cut by the end of the last chunk.
    carry: String,
    /// A `\r` was the last character: a `\n` ends the line, anything else overwrites it.
    cr: bool,
}

impl OutputParser {
    /// Feeds a chunk of output; returns the lines it finished.
    pub(super) fn feed(&mut self, data: &str) -> Vec<String> {
        let mut input = std::mem::take(&mut self.carry);
        input.push_str(data);
        let (text, rest) = strip_controls(&input);
        if rest.len() <= MAX_CARRY {
            self.carry = rest.to_owned();
        }
        let mut done = Vec::new();
        for c in text.chars() {
            // `\r\r\n` is what a PTY makes of a program's own `\r\n`.
            if self.cr && !matches!(c, '\n' | '\r') {
                self.current.clear();
            }
            match c {
                '\n' => {
                    self.cr = false;
                    done.push(std::mem::take(&mut self.current));
                }
                '\r' => self.cr = true,
                '\x08' => {
                    self.cr = false;
                    self.current.pop();
                }
                c => {
                    self.cr = false;
                    self.current.push(c);
                }
            }
        }
        done
    }

    /// Ends the unfinished line (before a line of the page's own), if there is one.
    pub(super) fn flush(&mut self) -> Option<String> {
        self.cr = false;
        self.carry.clear();
        Some(std::mem::take(&mut self.current)).filter(|l| !l.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_controls_are_stripped() {
        let cases = [
            ("plain text", "plain text"),
            ("\x1b[1;32mgreen\x1b[0m and \x1b[Kmore", "green and more"),
            ("\x1b[?25l\x1b[2J\x1b[Hscreen", "screen"),
            ("\x1b]0;window title\x07after", "after"),
            (
                "\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\",
                "link",
            ),
            ("\x1b(B\x1b=\x1b7keep\x1b8", "keep"),
            ("bell\x07 and nul\0 gone", "bell and nul gone"),
            ("a\tb\r\nc\x08d", "a\tb\r\nc\x08d"),
            ("ünïcödé ✓", "ünïcödé ✓"),
        ];
        for (input, text) in cases {
            assert_eq!(strip_controls(input), (text.to_string(), ""), "{input:?}");
        }
    }

    #[test]
    fn an_unfinished_escape_sequence_is_kept_for_the_next_chunk() {
        assert_eq!(strip_controls("ok\x1b[1;3"), ("ok".to_string(), "\x1b[1;3"));
        assert_eq!(strip_controls("ok\x1b"), ("ok".to_string(), "\x1b"));
        assert_eq!(
            strip_controls("\x1b]0;title"),
            (String::new(), "\x1b]0;title")
        );
    }

    #[test]
    fn output_chunks_become_lines() {
        let mut p = OutputParser::default();
        assert_eq!(p.feed("one\r\ntw"), ["one"]);
        assert_eq!(p.current, "tw");
        assert_eq!(p.feed("o\r\r\n\x1b[3"), ["two"]);
        assert_eq!(p.feed("1mred\x1b[0m\n"), ["red"]);
        assert_eq!(p.feed("Name: "), Vec::<String>::new());
        assert_eq!(p.flush().as_deref(), Some("Name: "));
        assert_eq!(p.flush(), None);
    }

    #[test]
    fn a_lone_carriage_return_overwrites_the_line() {
        let mut p = OutputParser::default();
        assert!(p.feed("progress 10%\r").is_empty());
        // The old text stays until something replaces it.
        assert_eq!(p.current, "progress 10%");
        assert_eq!(p.feed("progress 100%\r\n"), ["progress 100%"]);
        assert_eq!(p.feed("abc\x08\x08x\n"), ["ax"]);
    }
}
