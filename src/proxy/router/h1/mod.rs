//! The HTTP/1.1 client for plain `http://` replicas: vLLM on the pod or its private network,
//! which is nearly every request the proxy sends.
//!
//! It exists for the streams. hyper's client decodes a response in a task of its own and
//! hands the body over one HTTP chunk at a time through a channel, and vLLM writes one chunk
//! per token: every token cost two task switches and a write to the client. Here the body
//! is read in the request's own task, and each network read comes out as one piece, however
//! many chunks it held, so a burst of tokens is one write to the client.
//!
//! What it does: keep-alive connections pooled per host (the most recent first, dropped
//! after `idle_timeout`, checked for a close by the server before reuse), one retry on a
//! fresh connection when a reused one turns out closed before any answer byte, requests
//! written in one write, `Content-Length`, chunked and until-close bodies. A body dropped
//! before its end closes its connection (vLLM then aborts the generation).

mod chunked;
mod head;

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use bytes::BytesMut;
use futures_util::{Stream, StreamExt as _};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

use self::chunked::Chunked;
use self::head::{Framing, Head};
use super::failure::{BoxError, SendError, describe};
use crate::proxy::loops;

/// Each read asks for at least this much room (the buffer is kept between reads).
const READ_SIZE: usize = 8 << 10;
/// A response head larger than this is refused.
const MAX_HEAD: usize = 64 << 10;

#[derive(Debug, Clone)]
pub(crate) struct Client {
    pool: Arc<Pool>,
}

#[derive(Debug)]
struct Pool {
    idle: Mutex<HashMap<String, Vec<Idle>>>,
    /// A task is closing expired idle connections.
    reaping: AtomicBool,
    max_idle: usize,
    idle_timeout: Duration,
    connect_timeout: Duration,
    keepalive: Duration,
}

#[derive(Debug)]
struct Idle {
    conn: Conn,
    since: Instant,
    /// The event loop whose runtime the connection is registered with (see
    /// [`crate::proxy::loops`]): only that loop takes it again, so its reads wake the task
    /// on the thread that polls its socket.
    owner: usize,
}

/// A connection and what was read from it past the last answer's head.
#[derive(Debug)]
struct Conn {
    io: TcpStream,
    buf: BytesMut,
}

/// An answer's head; its body not yet read.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) content_type: Option<http::HeaderValue>,
    pub(crate) body: BodyReader,
}

/// Why one exchange failed, and whether a retry on a fresh connection is sound.
struct Failure {
    error: SendError,
    /// Nothing of an answer came: a reused connection the server had closed.
    stale: bool,
}

impl Client {
    pub(crate) fn new(
        idle_timeout: Duration,
        max_idle: usize,
        connect_timeout: Duration,
        keepalive: Duration,
    ) -> Self {
        let pool = Pool {
            idle: Mutex::new(HashMap::new()),
            reaping: AtomicBool::new(false),
            max_idle,
            idle_timeout,
            connect_timeout,
            keepalive,
        };
        Self { pool: Arc::new(pool) }
    }

    /// Sends the request and reads the answer's head.
    pub(crate) async fn send(
        &self,
        method: &http::Method,
        uri: &http::Uri,
        key: Option<&http::HeaderValue>,
        body: Option<&Bytes>,
    ) -> Result<Response, SendError> {
        let host = uri.authority().map_or("", http::uri::Authority::as_str);
        let request = head::request(method, uri, key, body.map(Bytes::len));
        let body = body.map_or(&[][..], |b| &b[..]);
        loop {
            let (conn, reused) = match self.pool.checkout(host) {
                Some(conn) => (conn, true),
                None => (self.pool.connect(uri).await?, false),
            };
            match exchange(conn, &request, body, method).await {
                Ok((head, conn)) => {
                    let body = BodyReader {
                        conn: Some(conn),
                        framing: Body::new(head.framing),
                        keep_alive: head.keep_alive,
                        pool: Arc::clone(&self.pool),
                        host: host.to_owned(),
                    };
                    let mut response =
                        Response { status: head.status, content_type: head.content_type, body };
                    // An empty body is over already: its connection goes back at once.
                    response.body.settle();
                    return Ok(response);
                }
                Err(failure) if failure.stale && reused => {}
                Err(failure) => return Err(failure.error),
            }
        }
    }
}

/// Writes the request (`head`, then `body`) and reads the head of its answer.
async fn exchange(
    mut conn: Conn,
    head: &[u8],
    body: &[u8],
    method: &http::Method,
) -> Result<(Head, Conn), Failure> {
    let failed = |what: &str, e: &std::io::Error, stale: bool| Failure {
        error: SendError { connect: false, message: describe(what, e) },
        stale: stale
            && matches!(e.kind(), std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset),
    };
    if let Err(e) = write_both(&mut conn.io, head, body).await {
        return Err(failed("failed", &e, true));
    }
    loop {
        match head::response(&conn.buf, method) {
            Ok(Some((head, len))) => {
                let _ = conn.buf.split_to(len);
                return Ok((head, conn));
            }
            Ok(None) if conn.buf.len() > MAX_HEAD => {
                let message = format!("failed (the answer's head is longer than {MAX_HEAD} bytes)");
                return Err(Failure { error: SendError { connect: false, message }, stale: false });
            }
            Ok(None) => {}
            Err(message) => {
                return Err(Failure { error: SendError { connect: false, message }, stale: false });
            }
        }
        conn.buf.reserve(READ_SIZE);
        let nothing_yet = conn.buf.is_empty();
        match tokio::io::AsyncReadExt::read_buf(&mut conn.io, &mut conn.buf).await {
            Ok(0) => {
                let message = "failed (connection closed before the answer's head ended)".to_owned();
                return Err(Failure { error: SendError { connect: false, message }, stale: nothing_yet });
            }
            Ok(_) => {}
            Err(e) => return Err(failed("failed", &e, nothing_yet)),
        }
    }
}

/// Writes `head` and then `body`, in vectored writes (one, nearly always).
async fn write_both(
    io: &mut (impl tokio::io::AsyncWrite + Unpin),
    mut head: &[u8],
    mut body: &[u8],
) -> std::io::Result<()> {
    while !head.is_empty() || !body.is_empty() {
        let parts = [std::io::IoSlice::new(head), std::io::IoSlice::new(body)];
        let written = io.write_vectored(&parts).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        let from_head = written.min(head.len());
        head = &head[from_head..];
        body = &body[written - from_head..];
    }
    Ok(())
}

impl Pool {
    /// The most recently used live connection to `host` of this thread's event loop, if any.
    fn checkout(&self, host: &str) -> Option<Conn> {
        let me = loops::current();
        loop {
            let idle = {
                let mut pools = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let conns = pools.get_mut(host)?;
                let at = conns.iter().rposition(|idle| idle.owner == me)?;
                conns.remove(at)
            };
            if idle.since.elapsed() >= self.idle_timeout {
                continue;
            }
            // A server that closed the connection while it sat idle has made it readable (the
            // end of file); a live one has nothing to say before a request.
            let mut probe = [0u8; 1];
            match idle.conn.io.try_read(&mut probe) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Some(idle.conn),
                _ => {}
            }
        }
    }

    fn put(self: &Arc<Self>, host: String, conn: Conn) {
        let mut pools = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let conns = pools.entry(host).or_default();
        if conns.len() >= self.max_idle {
            return;
        }
        conns.push(Idle { conn, since: Instant::now(), owner: loops::current() });
        if !self.reaping.swap(true, Ordering::AcqRel) {
            tokio::spawn(reap(Arc::downgrade(self)));
        }
    }

    async fn connect(&self, uri: &http::Uri) -> Result<Conn, SendError> {
        let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(80);
        let io = match tokio::time::timeout(self.connect_timeout, TcpStream::connect((host, port))).await {
            Err(_) => {
                let message =
                    format!("refused the connection (no answer within {} s)", self.connect_timeout.as_secs());
                return Err(SendError { connect: true, message });
            }
            Ok(Err(e)) => {
                return Err(SendError { connect: true, message: describe("refused the connection", &e) });
            }
            Ok(Ok(io)) => io,
        };
        // Every event is a small write: Nagle would hold each for the last one's ack.
        let _ = io.set_nodelay(true);
        let _ = socket2::SockRef::from(&io)
            .set_tcp_keepalive(&socket2::TcpKeepalive::new().with_time(self.keepalive));
        Ok(Conn { io, buf: BytesMut::new() })
    }
}

/// Closes idle connections past their timeout, while any is pooled. Without it, the sockets
/// a burst left behind would stay open until the next request to the same host.
async fn reap(pool: Weak<Pool>) {
    loop {
        let every = match pool.upgrade() {
            Some(pool) => pool.idle_timeout / 2,
            None => return,
        };
        tokio::time::sleep(every.max(Duration::from_millis(100))).await;
        let Some(pool) = pool.upgrade() else { return };
        let mut pools = pool.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        pools.retain(|_, conns| {
            conns.retain(|idle| idle.since.elapsed() < pool.idle_timeout);
            !conns.is_empty()
        });
        if pools.is_empty() {
            pool.reaping.store(false, Ordering::Release);
            return;
        }
    }
}

/// Where a body's reading stands.
#[derive(Debug)]
enum Body {
    Empty,
    Length(u64),
    Chunked(Chunked),
    Close,
}

impl Body {
    fn new(framing: Framing) -> Self {
        match framing {
            Framing::Empty => Self::Empty,
            Framing::Length(n) => Self::Length(n),
            Framing::Chunked => Self::Chunked(Chunked::default()),
            Framing::Close => Self::Close,
        }
    }
}

/// An answer's body as it arrives: each item is what one or more network reads brought.
pub(crate) struct BodyReader {
    /// `None` once the body ended (the connection went back to the pool) or failed.
    conn: Option<Conn>,
    framing: Body,
    keep_alive: bool,
    pool: Arc<Pool>,
    host: String,
}

impl BodyReader {
    /// The whole body.
    pub(crate) async fn bytes(mut self) -> Result<Bytes, BoxError> {
        let Some(first) = self.next().await.transpose()? else { return Ok(Bytes::new()) };
        let Some(second) = self.next().await.transpose()? else { return Ok(first) };
        let mut all = BytesMut::with_capacity(first.len() + second.len() + READ_SIZE);
        all.extend_from_slice(&first);
        all.extend_from_slice(&second);
        while let Some(piece) = self.next().await.transpose()? {
            all.extend_from_slice(&piece);
        }
        Ok(all.freeze())
    }

    /// Once the body is over: its connection back to the pool when it can carry another.
    fn settle(&mut self) {
        let over = match &self.framing {
            Body::Empty | Body::Length(0) => true,
            Body::Chunked(decoder) => decoder.done(),
            Body::Length(_) | Body::Close => false,
        };
        if !over {
            return;
        }
        if let Some(conn) = self.conn.take() {
            // Bytes past the body's end: the server is not speaking HTTP/1.1 as we know it.
            if self.keep_alive && conn.buf.is_empty() {
                self.pool.put(std::mem::take(&mut self.host), conn);
            }
        }
    }

    /// What the buffer holds of the body, taken out of it.
    fn take_buffered(&mut self) -> Result<Option<Bytes>, BoxError> {
        let Some(conn) = self.conn.as_mut() else { return Ok(None) };
        if conn.buf.is_empty() {
            return Ok(None);
        }
        let data = match &mut self.framing {
            Body::Empty => return Ok(None),
            Body::Length(left) => {
                let n = usize::try_from(*left).unwrap_or(usize::MAX).min(conn.buf.len());
                *left -= n as u64;
                conn.buf.split_to(n).freeze()
            }
            Body::Close => conn.buf.split().freeze(),
            Body::Chunked(decoder) => {
                let mut out = BytesMut::with_capacity(conn.buf.len());
                decoder.decode(&mut conn.buf, &mut out)?;
                out.freeze()
            }
        };
        Ok((!data.is_empty()).then_some(data))
    }
}

impl Stream for BodyReader {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let taken = this.take_buffered();
            this.settle();
            match taken {
                Err(e) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(e)));
                }
                Ok(Some(data)) => return Poll::Ready(Some(Ok(data))),
                Ok(None) => {}
            }
            let Some(conn) = this.conn.as_mut() else { return Poll::Ready(None) };
            conn.buf.reserve(READ_SIZE);
            let Poll::Ready(read) = tokio_util::io::poll_read_buf(Pin::new(&mut conn.io), cx, &mut conn.buf)
            else {
                // Between a model's tokens the buffer is empty: a thousand waiting streams
                // need not hold a read buffer each.
                if conn.buf.is_empty() {
                    conn.buf = BytesMut::new();
                }
                return Poll::Pending;
            };
            match read {
                Ok(0) => {
                    this.conn = None;
                    if matches!(this.framing, Body::Close) {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Err("connection closed before the answer's body ended".into())));
                }
                Ok(_) => {}
                Err(e) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(e.into())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
