//! Log lines written by a thread of their own, so a request never waits on stdout.
//!
//! Each line is formatted into a buffer of its own and handed over through a bounded queue; the
//! writer thread writes whatever has queued up in one go. A request thus never takes the stdout
//! lock nor makes a system call to log, and a stalled log collector stalls the thread, not the
//! app: once the queue is full, lines are dropped and counted, and the count is logged as soon as
//! there is room again.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// Lines that may wait for the writer thread: a few seconds of a busy instance's requests.
pub(super) const QUEUE: usize = 65_536;

/// How long [`LogWriter::flush`] waits for the thread to write what is queued.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

enum Message {
    Line(Vec<u8>),
    /// Write everything queued before this, then answer.
    Flush(SyncSender<()>),
}

/// What the subscriber writes through: hands each line to the writer thread.
#[derive(Debug)]
pub(super) struct LogWriter {
    queue: SyncSender<Message>,
    dropped: AtomicU64,
    /// Whether lines are JSON, so the report of dropped lines is one too.
    json: bool,
}

impl LogWriter {
    /// Starts the writer thread on `output` (stdout in the app), with room for `capacity`
    /// waiting lines.
    pub(super) fn start(
        output: impl Write + Send + 'static,
        json: bool,
        capacity: usize,
    ) -> io::Result<Self> {
        let (queue, lines) = mpsc::sync_channel(capacity);
        std::thread::Builder::new()
            .name("log-writer".to_owned())
            .spawn(move || write_lines(&lines, output))?;
        Ok(Self { queue, dropped: AtomicU64::new(0), json })
    }

    /// Waits (at most [`FLUSH_TIMEOUT`]) until every line queued so far is written: called as
    /// the process ends, so its last lines are not lost with the thread.
    pub(super) fn flush(&self) {
        let (done, flushed) = mpsc::sync_channel(1);
        if self.queue.send(Message::Flush(done)).is_ok() {
            let _ = flushed.recv_timeout(FLUSH_TIMEOUT);
        }
    }

    fn send(&self, line: Vec<u8>) {
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 && self.queue.try_send(Message::Line(self.dropped_report(dropped))).is_err()
        {
            self.dropped.fetch_add(dropped, Ordering::Relaxed);
        }
        if self.queue.try_send(Message::Line(line)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn dropped_report(&self, dropped: u64) -> Vec<u8> {
        let message = "log lines dropped: the log output could not keep up";
        let report = match self.json {
            true => format!(r#"{{"level":"WARN","message":"{message}","dropped":{dropped}}}"#),
            false => format!(" WARN {message}: {dropped}"),
        };
        (report + "\n").into_bytes()
    }
}

/// The writer thread: writes each batch of queued lines with one flush.
fn write_lines(lines: &Receiver<Message>, output: impl Write) {
    let mut output = io::BufWriter::with_capacity(64 * 1024, output);
    while let Ok(first) = lines.recv() {
        let mut flushed = Vec::new();
        for message in std::iter::once(first).chain(lines.try_iter()) {
            match message {
                Message::Line(line) => {
                    let _ = output.write_all(&line);
                }
                Message::Flush(done) => flushed.push(done),
            }
        }
        let _ = output.flush();
        for done in flushed {
            let _ = done.send(());
        }
    }
}

/// One line being formatted; handed to the writer thread when the subscriber drops it.
#[derive(Debug)]
pub(super) struct Line<'a> {
    buffer: Vec<u8>,
    writer: &'a LogWriter,
}

impl Write for Line<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Line<'_> {
    fn drop(&mut self) {
        if !self.buffer.is_empty() {
            self.writer.send(std::mem::take(&mut self.buffer));
        }
    }
}

impl<'a> MakeWriter<'a> for &'static LogWriter {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Line<'a> {
        Line { buffer: Vec::with_capacity(256), writer: self }
    }
}

#[cfg(test)]
mod tests;
