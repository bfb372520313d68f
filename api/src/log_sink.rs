//! Where log lines go: a shared buffer that one background thread writes out in batches.
//!
//! A line costs the thread that logs it a lock and a copy (no allocation, no hand-off per line).
//! The writer thread, parked while the buffer is empty, is woken by the line that ends that, then
//! waits [`GATHER`] so that one write carries everything logged meanwhile: under load, one
//! wake-up and one write per [`GATHER`], and no logger pays for a wake-up. Nothing is dropped: a
//! logger finding [`LIMIT`] bytes queued waits for the writer.
//! [`LogGuard`] writes out what is queued when dropped; keep it for the life of the process.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the writer lets lines gather after the first one arrives.
pub const GATHER: Duration = Duration::from_millis(10);
/// Queued bytes past which loggers wait for the writer instead of queueing more.
const LIMIT: usize = 1 << 20;

#[derive(Default)]
struct Queue {
    bytes: Vec<u8>,
    closed: bool,
    /// The writer is parked on `filled`: only then does a logger need to wake it (a notify costs
    /// a system call even when nobody waits).
    writer_parked: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when the queue stops being empty, or closes.
    filled: Condvar,
    /// Signalled when the writer has taken the queue.
    drained: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The logging side: cheap to clone, one per subscriber.
#[derive(Clone)]
pub struct LogSink {
    shared: Arc<Shared>,
}

/// Writes out what is queued and stops the writer thread when dropped.
pub struct LogGuard {
    shared: Arc<Shared>,
    writer: Option<JoinHandle<()>>,
}

/// A sink writing to `out` from a thread named `name`.
pub fn spawn(name: &str, out: impl Write + Send + 'static) -> std::io::Result<(LogSink, LogGuard)> {
    let shared = Arc::new(Shared::default());
    let writer = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || write_out(&shared, out))?
    };
    Ok((
        LogSink {
            shared: shared.clone(),
        },
        LogGuard {
            shared,
            writer: Some(writer),
        },
    ))
}

fn write_out(shared: &Shared, mut out: impl Write) {
    let mut batch = Vec::new();
    loop {
        let mut queue = shared.lock();
        while queue.bytes.is_empty() && !queue.closed {
            queue.writer_parked = true;
            queue = shared.filled.wait(queue).unwrap_or_else(|p| p.into_inner());
            queue.writer_parked = false;
        }
        if !queue.closed {
            drop(queue);
            std::thread::sleep(GATHER);
            queue = shared.lock();
        }
        let closed = queue.closed;
        std::mem::swap(&mut batch, &mut queue.bytes);
        drop(queue);
        shared.drained.notify_all();
        // A failed write (stderr closed) loses those lines and nothing else.
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
        if closed {
            return;
        }
    }
}

impl LogSink {
    fn append(&self, line: &[u8]) {
        let mut queue = self.shared.lock();
        while queue.bytes.len() >= LIMIT && !queue.closed {
            queue = self
                .shared
                .drained
                .wait(queue)
                .unwrap_or_else(|p| p.into_inner());
        }
        queue.bytes.extend_from_slice(line);
        let wake = queue.writer_parked;
        drop(queue);
        if wake {
            self.shared.filled.notify_one();
        }
    }
}

impl Write for &LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.append(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogSink {
    type Writer = &'a LogSink;

    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.filled.notify_one();
        self.shared.drained.notify_all();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output whose bytes the test can read while the writer owns it.
    #[derive(Clone, Default)]
    struct Captured {
        bytes: Arc<Mutex<Vec<u8>>>,
        writes: Arc<Mutex<usize>>,
    }

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.bytes.lock().unwrap().extend_from_slice(buf);
            *self.writes.lock().unwrap() += 1;
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.bytes.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn lines_from_many_threads_all_arrive_whole_and_in_each_threads_order() {
        let out = Captured::default();
        let (sink, guard) = spawn("test-log", out.clone()).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let sink = sink.clone();
                std::thread::spawn(move || {
                    for n in 0..5_000 {
                        (&sink)
                            .write_all(format!("thread {t} line {n}\n").as_bytes())
                            .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
        let text = out.text();
        assert_eq!(text.lines().count(), 20_000);
        for t in 0..4 {
            let numbers: Vec<usize> = text
                .lines()
                .filter_map(|l| l.strip_prefix(&format!("thread {t} line ")))
                .map(|n| n.parse().unwrap())
                .collect();
            assert_eq!(numbers, (0..5_000).collect::<Vec<_>>());
        }
        // Batched: far fewer writes than lines.
        assert!(*out.writes.lock().unwrap() < 2_000);
    }

    #[test]
    fn a_line_is_written_out_shortly_without_the_guard_being_dropped() {
        let out = Captured::default();
        let (sink, _guard) = spawn("test-log", out.clone()).unwrap();
        (&sink).write_all(b"first\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while out.text().is_empty() {
            assert!(std::time::Instant::now() < deadline, "never written");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(out.text(), "first\n");
    }

    #[test]
    fn loggers_wait_instead_of_dropping_when_the_queue_is_full() {
        /// An output slower than its loggers.
        struct Slow(Captured);
        impl Write for Slow {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                std::thread::sleep(Duration::from_millis(20));
                self.0.write(buf)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let out = Captured::default();
        let (sink, guard) = spawn("test-log", Slow(out.clone())).unwrap();
        let line = vec![b'x'; 64 * 1024 - 1];
        for _ in 0..48 {
            (&sink).write_all(&line).unwrap();
            (&sink).write_all(b"\n").unwrap();
        }
        drop(guard);
        assert_eq!(out.text().len(), 48 * 64 * 1024);
    }
}
