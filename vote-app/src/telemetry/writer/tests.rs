use std::sync::{Arc, Mutex};

use super::*;

/// An output the test can read, and hold: while `hold` is locked, writing waits.
#[derive(Clone, Default)]
struct Output {
    written: Arc<Mutex<Vec<u8>>>,
    hold: Arc<Mutex<()>>,
}

impl Write for Output {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let _held = self.hold.lock().unwrap();
        self.written.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn log(writer: &'static LogWriter, line: &str) {
    let mut made = writer.make_writer();
    made.write_all(line.as_bytes()).unwrap();
}

fn written(output: &Output) -> String {
    String::from_utf8(output.written.lock().unwrap().clone()).unwrap()
}

#[test]
fn lines_are_written_whole_and_in_order_once_flushed() {
    let output = Output::default();
    let writer = Box::leak(Box::new(LogWriter::start(output.clone(), false, 16).unwrap()));
    for number in 0..10 {
        log(writer, &format!("line {number}\n"));
    }
    writer.flush();
    let expected: String = (0..10).map(|number| format!("line {number}\n")).collect();
    assert_eq!(written(&output), expected);
}

#[test]
fn a_stalled_output_drops_lines_instead_of_blocking_and_says_how_many() {
    let output = Output::default();
    let writer = Box::leak(Box::new(LogWriter::start(output.clone(), true, 2).unwrap()));
    let held = output.hold.lock().unwrap();
    // The thread takes the first line and waits on the output; two more fill the queue; the
    // rest are dropped, and logging returns at once all along.
    for number in 0..10 {
        log(writer, &format!("{{\"line\":{number}}}\n"));
    }
    drop(held);
    writer.flush();
    log(writer, "{\"line\":10}\n");
    writer.flush();
    let written = written(&output);
    let lines: Vec<&str> = written.lines().collect();
    // Every line is either written or counted in a report (a report itself may have to wait
    // for room, so the count can come in more than one).
    let (reports, kept): (Vec<&str>, Vec<&str>) =
        lines.iter().partition(|line| line.contains("log lines dropped"));
    let dropped: u64 = reports
        .iter()
        .map(|report| {
            serde_json::from_str::<serde_json::Value>(report).unwrap()["dropped"].as_u64().unwrap()
        })
        .sum();
    assert!(dropped > 0 && kept.len() < 11, "{written}");
    assert_eq!(kept.len() as u64 + dropped, 11, "{written}");
    assert_eq!(lines.last(), Some(&"{\"line\":10}"));
}

#[test]
fn a_written_line_leaves_its_buffer_empty_for_the_next_line() {
    let output = Output::default();
    let writer = Box::leak(Box::new(LogWriter::start(output.clone(), true, 16).unwrap()));
    let mut line = Vec::with_capacity(1_000);
    line.extend_from_slice(b"{\"line\":1}\n");
    writer.send(line);
    writer.flush();
    let reused = writer.buffer();
    assert!(reused.is_empty() && reused.capacity() == 1_000, "{}", reused.capacity());
    assert!(writer.buffer().capacity() < 1_000, "a buffer is handed out once");
    assert_eq!(written(&output), "{\"line\":1}\n");
}
