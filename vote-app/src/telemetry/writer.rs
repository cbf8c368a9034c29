//! Log lines written by a thread of their own, so a request never waits on stdout.
//!
//! Each line is formatted into a buffer of its own and handed over through a bounded queue; the
//! writer thread wakes at the first line, lets the next ones queue up for a few milliseconds and
//! writes them in one go. A request thus never takes the stdout lock nor makes a system call to
//! log, and a stalled log collector stalls the thread, not the app: once the queue is full, lines
//! are dropped and counted, and the count is logged as soon as there is room again.
//!
//! Buffers go back and forth: the thread returns each written line's buffer to a small pool,
//! where a later line is formatted. A buffer allocated in a worker and freed in the writer thread
//! never returns to the worker's allocator cache: about 1,900 instructions per line (callgrind),
//! a fifth of what the line cost before the pool.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// Lines that may wait for the writer thread: a few seconds of a busy instance's requests.
pub(super) const QUEUE: usize = 65_536;

/// How long the thread lets lines queue up after the first: a few milliseconds' delay for the
/// log, at most 200 wake-ups and writes a second however busy the app is.
const BATCH_WAIT: Duration = Duration::from_millis(5);

/// Written lines' buffers kept for the next lines: a batch of a busy instance (60,000 lines a
/// second is 300 in [`BATCH_WAIT`]), a megabyte at most.
const SPARE_BUFFERS: usize = 1024;

/// A new buffer's room: a request line is about 270 bytes.
const BUFFER_CAPACITY: usize = 512;

/// Larger buffers (an unusually long line) are freed rather than kept.
const LARGEST_KEPT: usize = 1024;

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
    /// Empty buffers the writer thread has finished with, for the next lines.
    spare: Arc<Mutex<Vec<Vec<u8>>>>,
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
        let spare = Arc::new(Mutex::new(Vec::with_capacity(SPARE_BUFFERS)));
        let returned = spare.clone();
        std::thread::Builder::new()
            .name("log-writer".to_owned())
            .spawn(move || write_lines(&lines, output, &returned))?;
        Ok(Self { queue, dropped: AtomicU64::new(0), spare, json })
    }

    /// An empty buffer to format a line into: a spare one if there is, else a new one.
    pub(super) fn buffer(&self) -> Vec<u8> {
        let spare = self.spare.lock().ok().and_then(|mut spare| spare.pop());
        spare.unwrap_or_else(|| Vec::with_capacity(BUFFER_CAPACITY))
    }

    /// Waits (at most [`FLUSH_TIMEOUT`]) until every line queued so far is written: called as
    /// the process ends, so its last lines are not lost with the thread.
    pub(super) fn flush(&self) {
        let (done, flushed) = mpsc::sync_channel(1);
        if self.queue.send(Message::Flush(done)).is_ok() {
            let _ = flushed.recv_timeout(FLUSH_TIMEOUT);
        }
    }

    /// Whether lines are JSON (`LOG_FORMAT=json`) rather than text.
    pub(super) fn is_json(&self) -> bool {
        self.json
    }

    /// Queues one whole line, newline included, or counts it as dropped if the queue is full.
    pub(super) fn send(&self, line: Vec<u8>) {
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

/// The writer thread: writes each batch of queued lines with one flush, then returns their
/// buffers to `spare`.
fn write_lines(lines: &Receiver<Message>, output: impl Write, spare: &Mutex<Vec<Vec<u8>>>) {
    let mut output = io::BufWriter::with_capacity(64 * 1024, output);
    let mut written = Vec::with_capacity(SPARE_BUFFERS);
    while let Ok(first) = lines.recv() {
        // Let the next lines queue up before writing: one wake-up and one write for a batch.
        // Woken for each line, the thread cost the app a context switch, a futex wake and a
        // write per request (63,000 wake-ups for 72,000 requests in 3 s): more than formatting.
        std::thread::sleep(BATCH_WAIT);
        let mut flushed = Vec::new();
        for message in std::iter::once(first).chain(lines.try_iter()) {
            match message {
                Message::Line(mut line) => {
                    let _ = output.write_all(&line);
                    if written.len() < SPARE_BUFFERS && line.capacity() <= LARGEST_KEPT {
                        line.clear();
                        written.push(line);
                    }
                }
                Message::Flush(done) => flushed.push(done),
            }
        }
        let _ = output.flush();
        if let Ok(mut spare) = spare.lock() {
            let room = SPARE_BUFFERS.saturating_sub(spare.len());
            spare.extend(written.drain(..).take(room));
        }
        written.clear();
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
        Line { buffer: self.buffer(), writer: self }
    }
}

#[cfg(test)]
mod tests;
