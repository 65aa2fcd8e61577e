//! The client against raw servers on real sockets: what each writes is exactly what a test
//! says, so reuse, splits and closes are under the test's control.

use std::sync::atomic::AtomicUsize;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use super::*;

fn client() -> Client {
    Client::new(Duration::from_secs(4), 8, Duration::from_secs(2), Duration::from_secs(30))
}

/// Reads one request (head and `content-length` body) from `io`; `None` at its close.
async fn read_request(io: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut request = httparse::Request::new(&mut headers);
        if let Ok(httparse::Status::Complete(len)) = request.parse(&buf) {
            let length = request
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .map_or(0, |h| {
                    std::str::from_utf8(h.value).expect("utf-8").parse::<usize>().expect("length")
                });
            if buf.len() >= len + length {
                return Some(String::from_utf8_lossy(&buf).into_owned());
            }
        }
        let mut piece = [0u8; 4096];
        match io.read(&mut piece).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&piece[..n]),
        }
    }
}

/// A server that answers each request on a connection with `answer(connection, request)`'s
/// writes (each written apart, a little after the one before; an empty one closes the
/// connection), counting the connections it accepted.
async fn server<F>(answer: F) -> (http::Uri, Arc<AtomicUsize>)
where
    F: Fn(usize, usize) -> Vec<Vec<u8>> + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let uri =
        format!("http://{}/v1/chat/completions", listener.local_addr().expect("addr")).parse().expect("uri");
    let accepted = Arc::new(AtomicUsize::new(0));
    let answer = Arc::new(answer);
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut io, _)) = listener.accept().await {
            let connection = count.fetch_add(1, Ordering::SeqCst);
            let answer = Arc::clone(&answer);
            tokio::spawn(async move {
                let mut n = 0;
                while read_request(&mut io).await.is_some() {
                    for write in answer(connection, n) {
                        if write.is_empty() {
                            return; // close
                        }
                        if io.write_all(&write).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    n += 1;
                }
            });
        }
    });
    (uri, accepted)
}

fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn post(client: &Client, uri: &http::Uri) -> Result<Response, SendError> {
    client.send(&http::Method::POST, uri, None, Some(&Bytes::from_static(b"{}"))).await
}

/// The whole body of a POST's answer.
async fn whole(client: &Client, uri: &http::Uri) -> Bytes {
    post(client, uri).await.expect("answer").body.bytes().await.expect("body")
}

#[tokio::test]
async fn keep_alive_connections_are_reused() {
    let (uri, accepted) = server(|_, n| vec![ok(&format!("{{\"n\":{n}}}"))]).await;
    let client = client();
    for n in 0..3 {
        let response = post(&client, &uri).await.expect("answer");
        assert_eq!(response.status, 200);
        assert_eq!(
            response.content_type.as_ref().map(|v| v.to_str().expect("ascii")),
            Some("application/json")
        );
        assert_eq!(response.body.bytes().await.expect("body"), format!("{{\"n\":{n}}}"));
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_burst_of_chunks_comes_out_as_one_piece_and_splits_are_joined() {
    let events = (0..20).fold(String::new(), |mut all, i| {
        all.push_str(&format!("a\r\ndata: {i:02}\n\n\r\n"));
        all
    });
    let (uri, accepted) = server(move |_, _| {
        let head =
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
                .to_vec();
        let bytes = events.as_bytes();
        // All twenty events in one write, then the end split inside its framing.
        vec![head, bytes.to_vec(), b"0\r".to_vec(), b"\n\r\n".to_vec()]
    })
    .await;
    let client = client();
    for _ in 0..2 {
        let mut body = post(&client, &uri).await.expect("answer").body;
        let first = body.next().await.expect("a piece").expect("data");
        assert_eq!(first.len(), 20 * 10, "one read, one piece");
        assert!(first.starts_with(b"data: 00\n\n") && first.ends_with(b"data: 19\n\n"));
        assert!(body.next().await.is_none(), "the end");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "the finished stream's connection went back to the pool");
}

#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_not_used() {
    // Each connection answers once and closes, without saying so.
    let (uri, accepted) =
        server(|_, n| if n == 0 { vec![ok("{}"), Vec::new()] } else { vec![Vec::new()] }).await;
    let client = client();
    for _ in 0..3 {
        let response = post(&client, &uri).await.expect("answer on a fresh connection");
        assert_eq!(response.body.bytes().await.expect("body"), "{}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_reused_connection_that_fails_before_any_answer_is_retried_once() {
    // The first connection answers once, then closes as the next request comes.
    let (uri, accepted) = server(|connection, n| match (connection, n) {
        (0, 0) => vec![ok("first")],
        (0, _) => vec![Vec::new()],
        _ => vec![ok("second")],
    })
    .await;
    let client = client();
    assert_eq!(whole(&client, &uri).await, "first");
    assert_eq!(post(&client, &uri).await.expect("retried").body.bytes().await.expect("body"), "second");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_body_cut_short_is_an_error_and_a_dropped_one_closes_its_connection() {
    let (uri, accepted) = server(|_, _| {
        vec![b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n".to_vec(), Vec::new()]
    })
    .await;
    let client = client();
    let mut body = post(&client, &uri).await.expect("answer").body;
    assert_eq!(body.next().await.expect("piece").expect("data"), "hello");
    let error = body.next().await.expect("an error").expect_err("cut short");
    assert!(error.to_string().contains("before the answer's body ended"), "{error}");
    let cut = post(&client, &uri).await.expect("answer").body.bytes().await;
    assert!(cut.is_err(), "a cut body is not a whole one");
    // Dropped mid-body: not pooled, the next request connects again.
    let (uri, accepted2) = server(|_, _| {
        vec![b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello".to_vec(), b"world".to_vec()]
    })
    .await;
    let mut body = post(&client, &uri).await.expect("answer").body;
    assert_eq!(body.next().await.expect("piece").expect("data"), "hello");
    drop(body);
    assert_eq!(whole(&client, &uri).await, "helloworld");
    assert_eq!((accepted.load(Ordering::SeqCst), accepted2.load(Ordering::SeqCst)), (2, 2));
}

#[tokio::test]
async fn connection_close_and_until_close_bodies_are_not_pooled() {
    let (uri, accepted) = server(|_, _| {
        vec![b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok".to_vec(), Vec::new()]
    })
    .await;
    let client = client();
    for _ in 0..2 {
        assert_eq!(whole(&client, &uri).await, "ok");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    let (uri, _) =
        server(|_, _| vec![b"HTTP/1.0 200 OK\r\n\r\nuntil".to_vec(), b" close".to_vec(), Vec::new()]).await;
    assert_eq!(whole(&client, &uri).await, "until close");
}

#[tokio::test]
async fn no_server_is_a_connect_error_and_garbage_is_an_answer_error() {
    let free = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let uri: http::Uri =
        format!("http://{}/v1/models", free.local_addr().expect("addr")).parse().expect("uri");
    drop(free);
    let error = post(&client(), &uri).await.err().expect("refused");
    assert!(error.connect, "{}", error.message);
    assert!(error.message.starts_with("refused the connection ("), "{}", error.message);
    let (uri, _) = server(|_, _| vec![b"SSH-2.0-OpenSSH\r\n\r\n".to_vec()]).await;
    let error = post(&client(), &uri).await.err().expect("not HTTP");
    assert!(!error.connect && error.message.contains("invalid HTTP response head"), "{}", error.message);
}

#[tokio::test]
async fn idle_connections_are_closed_after_their_timeout() {
    let (uri, _) = server(|_, _| vec![ok("{}")]).await;
    let client = Client::new(Duration::from_millis(200), 8, Duration::from_secs(2), Duration::from_secs(30));
    whole(&client, &uri).await;
    let pooled = || client.pool.idle.lock().expect("lock").values().map(Vec::len).sum::<usize>();
    assert_eq!(pooled(), 1);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(pooled(), 0, "the reaper closed it");
    assert!(!client.pool.reaping.load(Ordering::SeqCst), "and stopped, with nothing left to watch");
}

#[tokio::test]
async fn each_event_loop_reuses_only_its_own_connections() {
    let (uri, accepted) = server(|_, _| vec![ok("{}")]).await;
    let client = client();
    whole(&client, &uri).await;
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    // Loop 1's runtime cannot poll loop 0's socket without crossing threads: it connects
    // anew, then reuses its own.
    let (on_loop, at) = (client.clone(), uri.clone());
    let done = crate::proxy::loops::spawn(1, move || async move {
        whole(&on_loop, &at).await;
        whole(&on_loop, &at).await;
        Ok(())
    })
    .expect("loop started");
    done.await.expect("loop ended").expect("served");
    assert_eq!(accepted.load(Ordering::SeqCst), 2, "one connection per loop");
    whole(&client, &uri).await;
    assert_eq!(accepted.load(Ordering::SeqCst), 2, "loop 0 took its own back");
}

/// Head and body go out whole and in order however little each write takes.
#[tokio::test]
async fn head_and_body_are_written_whole_in_short_writes() {
    let (mut small, mut other) = tokio::io::duplex(7);
    let reader = tokio::spawn(async move {
        let mut all = Vec::new();
        other.read_to_end(&mut all).await.expect("read");
        all
    });
    write_both(&mut small, b"HEAD: 1\r\n\r\n", b"{\"a\": \"a body longer than seven\"}")
        .await
        .expect("written");
    write_both(&mut small, b"", b"").await.expect("nothing to write");
    drop(small);
    assert_eq!(reader.await.expect("joined"), b"HEAD: 1\r\n\r\n{\"a\": \"a body longer than seven\"}");
}
