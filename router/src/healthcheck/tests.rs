use std::net::TcpListener;
use std::thread;

use super::*;

/// A server on a free port that answers one connection with `answer` (nothing at all when
/// `None`), then holds it until the client hangs up.
fn serve_once(answer: Option<&'static str>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        if let Some(answer) = answer {
            stream.write_all(answer.as_bytes()).unwrap();
        }
        // Until the client closes: it must not see the connection end before its deadline.
        let _ = io::copy(&mut stream, &mut io::sink());
    });
    port
}

#[test]
fn a_200_passes() {
    let port = serve_once(Some("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
    check(port, DEFAULT_PATH, TIMEOUT).unwrap();
}

#[test]
fn another_status_fails_and_names_it() {
    let port = serve_once(Some("HTTP/1.1 404 Not Found\r\n\r\n"));
    let failed = check(port, DEFAULT_PATH, TIMEOUT).unwrap_err();
    assert!(matches!(failed, CheckFailed::Status { status: 404, .. }), "{failed:?}");
    assert_eq!(failed.to_string(), "GET /router/health answered 404");
}

#[test]
fn nothing_listening_fails_to_connect() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let failed = check(port, DEFAULT_PATH, TIMEOUT).unwrap_err();
    assert!(matches!(failed, CheckFailed::Connect { .. }), "{failed:?}");
    assert!(failed.to_string().starts_with(&format!("cannot connect to 127.0.0.1:{port}")));
}

#[test]
fn a_server_that_never_answers_fails_at_the_deadline() {
    let port = serve_once(None);
    let started = Instant::now();
    let failed = check(port, DEFAULT_PATH, Duration::from_millis(200)).unwrap_err();
    assert!(matches!(failed, CheckFailed::NoAnswer { .. }), "{failed:?}");
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
}

#[test]
fn another_protocol_on_the_port_fails() {
    let port = serve_once(Some("-ERR unknown command 'GET'\r\n"));
    let failed = check(port, DEFAULT_PATH, TIMEOUT).unwrap_err();
    assert!(matches!(failed, CheckFailed::NotHttp { ref line, .. } if line.starts_with("-ERR")));
}

#[test]
fn status_codes_are_read_from_http_1_status_lines_only() {
    let cases = [
        ("HTTP/1.1 200 OK\r\n", Some(200)),
        ("HTTP/1.0 404 Not Found\r\n", Some(404)),
        ("HTTP/1.1 204\r\n", Some(204)),
        ("HTTP/2 200\r\n", None),
        ("HTTP/1.1 OK\r\n", None),
        ("", None),
    ];
    for (line, expected) in cases {
        assert_eq!(status_code(line), expected, "{line:?}");
    }
}
