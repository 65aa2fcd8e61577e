//! The two heads of an HTTP/1.1 exchange with a replica: the request's (written with its
//! body in one vectored write: the body is not copied), and the response's, parsed with
//! `httparse`. Pure.

/// How the response's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body (`HEAD`, 204, 304).
    Empty,
    /// `Content-Length`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Up to the connection's close (neither header: HTTP/1.0 style).
    Close,
}

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) status: u16,
    pub(crate) content_type: Option<http::HeaderValue>,
    pub(crate) framing: Framing,
    /// The connection may carry the next request once the body is read.
    pub(crate) keep_alive: bool,
}

/// Headers beyond this many make the response invalid (vLLM sends about five).
const MAX_HEADERS: usize = 64;

/// The request's head, for a body of `body_len` bytes (a JSON one) or none.
pub(crate) fn request(
    method: &http::Method,
    uri: &http::Uri,
    key: Option<&http::HeaderValue>,
    body_len: Option<usize>,
) -> Vec<u8> {
    let path = uri.path_and_query().map_or("/", http::uri::PathAndQuery::as_str);
    let host = uri.authority().map_or("", http::uri::Authority::as_str);
    let mut out = Vec::with_capacity(160 + path.len() + host.len());
    for part in [method.as_str(), " ", path, " HTTP/1.1\r\nhost: ", host, "\r\n"] {
        out.extend_from_slice(part.as_bytes());
    }
    if let Some(key) = key {
        out.extend_from_slice(b"authorization: ");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(len) = body_len {
        out.extend_from_slice(b"content-type: application/json\r\ncontent-length: ");
        out.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
        out.extend_from_slice(b"\r\n\r\n");
    } else {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Parses the response head at the start of `bytes`: `Ok(None)` while it is incomplete,
/// else the head and its length. Informational (1xx) heads are skipped.
pub(crate) fn response(bytes: &[u8], method: &http::Method) -> Result<Option<(Head, usize)>, String> {
    let mut at = 0;
    loop {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        let len = match response.parse(&bytes[at..]) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(e) => return Err(format!("sent an invalid HTTP response head ({e})")),
        };
        let status = response.code.unwrap_or(0);
        at += len;
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        return head(&response, method).map(|head| Some((head, at)));
    }
}

fn head(response: &httparse::Response<'_, '_>, method: &http::Method) -> Result<Head, String> {
    let status = response.code.unwrap_or(0);
    let (mut length, mut chunked, mut content_type) = (None, false, None);
    let mut keep_alive = response.version == Some(1);
    for header in response.headers.iter() {
        let name = header.name;
        if name.eq_ignore_ascii_case("content-length") {
            let value = std::str::from_utf8(header.value).ok().and_then(|v| v.trim().parse::<u64>().ok());
            match (value, length) {
                (Some(v), None) => length = Some(v),
                (Some(v), Some(seen)) if v == seen => {}
                _ => return Err("sent an invalid Content-Length".to_owned()),
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked is the last coding when present; vLLM uses no other.
            chunked = header
                .value
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case("connection") {
            for token in header.value.split(|&b| b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    keep_alive = false;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("content-type") {
            content_type = http::HeaderValue::from_bytes(header.value).ok();
        }
    }
    let framing = if method == http::Method::HEAD || status == 204 || status == 304 {
        Framing::Empty
    } else if chunked {
        Framing::Chunked
    } else if let Some(length) = length {
        Framing::Length(length)
    } else {
        keep_alive = false;
        Framing::Close
    };
    Ok(Head { status, content_type, framing, keep_alive })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(wire: &str) -> Result<Option<(Head, usize)>, String> {
        response(wire.as_bytes(), &http::Method::POST)
    }

    #[test]
    fn the_request_head_has_the_bodys_length() {
        let uri: http::Uri = "http://127.0.0.1:8000/v1/chat/completions?x=1".parse().expect("uri");
        let key = http::HeaderValue::from_static("Bearer k");
        let wire = request(&http::Method::POST, &uri, Some(&key), Some(2));
        assert_eq!(
            String::from_utf8(wire).expect("text"),
            "POST /v1/chat/completions?x=1 HTTP/1.1\r\nhost: 127.0.0.1:8000\r\nauthorization: Bearer k\r\n\
             content-type: application/json\r\ncontent-length: 2\r\n\r\n"
        );
        let get = request(&http::Method::GET, &"http://h/health".parse().expect("uri"), None, None);
        assert_eq!(get, b"GET /health HTTP/1.1\r\nhost: h\r\n\r\n");
    }

    #[test]
    fn heads_give_status_type_framing_and_reuse() {
        let (head, len) = parse(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\nDATA",
        )
        .expect("valid")
        .expect("complete");
        assert_eq!(len, 80);
        assert_eq!(
            head,
            Head {
                status: 200,
                content_type: Some(http::HeaderValue::from_static("text/event-stream")),
                framing: Framing::Chunked,
                keep_alive: true
            }
        );
        let (head, _) = parse("HTTP/1.1 400 Bad Request\r\nContent-Length: 7\r\nConnection: close\r\n\r\n")
            .expect("valid")
            .expect("complete");
        assert_eq!((head.status, head.framing, head.keep_alive), (400, Framing::Length(7), false));
        let (head, _) = parse("HTTP/1.0 200 OK\r\n\r\n").expect("valid").expect("complete");
        assert_eq!((head.framing, head.keep_alive), (Framing::Close, false));
        let (head, _) = parse("HTTP/1.1 204 No Content\r\n\r\n").expect("valid").expect("complete");
        assert_eq!(head.framing, Framing::Empty);
    }

    #[test]
    fn informational_heads_are_skipped_and_partial_ones_wait() {
        let wire = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        let (head, len) = parse(wire).expect("valid").expect("complete");
        assert_eq!((head.status, len), (200, wire.len()));
        assert_eq!(parse("HTTP/1.1 200 OK\r\ncontent-le"), Ok(None));
    }

    #[test]
    fn invalid_heads_are_errors() {
        assert!(parse("SMTP ready\r\n\r\n").is_err());
        assert!(parse("HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n").is_err());
        assert!(parse("HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n").is_err());
    }
}
