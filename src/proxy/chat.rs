//! `POST /v1/chat/completions`: rewrite the request for vLLM, then translate its answer,
//! streaming or not.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};

use super::complete::translate_completion;
use super::log::RequestLog;
use super::reply::{error_response, json_response};
use super::rewrite::{ChatRequest, Plan};
use super::sse::SseDecoder;
use super::stream::{Progress, StreamTranslator, push_event};
use super::upstream::Upstream;
use super::{App, read_body};
use crate::openai::{ApiError, ErrorKind, completion_id, unix_now};

pub(crate) async fn chat(State(app): State<Arc<App>>, request: Request) -> Response {
    let mut log = RequestLog::new(completion_id(), "chat");
    match prepare(&app, request, &mut log).await {
        Err(e) => {
            log.set_error(&e);
            log.finish();
            error_response(&e)
        }
        Ok(p) if p.plan.stream => stream_reply(&app, p, log),
        Ok(p) => complete_reply(&app, p, log).await,
    }
}

struct Prepared {
    upstream: Arc<Upstream>,
    plan: Plan,
    response: reqwest::Response,
    /// What was sent upstream, kept only when tracing.
    sent: Option<Value>,
}

async fn prepare(app: &App, request: Request, log: &mut RequestLog) -> Result<Prepared, ApiError> {
    let bytes = read_body(request, app.max_body).await?;
    let parsed = ChatRequest::parse(&bytes)?;
    let requested = parsed.model()?;
    let upstream = app.route(requested.as_deref()).await?;
    let upstream_id = upstream.model_id().await?;
    let (body, plan) = parsed.rewrite(&upstream_id, &app.tools_cache)?;
    log.model.clone_from(&plan.model);
    log.stream = plan.stream;
    let sent = app.trace.is_some().then(|| serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null));
    let url = match &upstream.chat_url {
        Some(url) => url.clone(),
        None => {
            return Err(ApiError::new(ErrorKind::Internal, format!("bad upstream URL {}", upstream.base)));
        }
    };
    let waited = Instant::now();
    let request = upstream
        .request(reqwest::Method::POST, url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send();
    let response = tokio::select! {
        sent = request => sent.map_err(|e| upstream.unreachable(&e))?,
        () = app.closing.cancelled() => return Err(App::closing_error()),
    };
    log.upstream += waited.elapsed();
    let status = response.status().as_u16();
    if !response.status().is_success() {
        let body = response.bytes().await.unwrap_or_default();
        if status == 404 {
            // vLLM may have been restarted with another model: learn it again next time.
            upstream.forget_model();
        }
        return Err(upstream.error(status, &body));
    }
    Ok(Prepared { upstream, plan, response, sent })
}

async fn complete_reply(app: &App, p: Prepared, mut log: RequestLog) -> Response {
    let waited = Instant::now();
    let bytes = tokio::select! {
        bytes = p.response.bytes() => bytes.map_err(|e| p.upstream.unreachable(&e)),
        () = app.closing.cancelled() => Err(App::closing_error()),
    };
    log.upstream += waited.elapsed();
    let result = bytes.and_then(|bytes| {
        let upstream: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::new(
                ErrorKind::BadGateway,
                format!("upstream answered HTTP 200 with a body that is not JSON ({e})"),
            )
        })?;
        translate_completion(
            &upstream,
            &p.plan,
            p.upstream.format,
            p.upstream.reasoning,
            &log.id,
            app.trace.is_some(),
        )
    });
    match result {
        Ok(done) => {
            log.status = 200;
            log.tool_calls = done.calls;
            log.finish = done.finish;
            log.finish();
            if let (Some(tracer), Some(sent)) = (&app.trace, p.sent) {
                tracer.write(
                    &log.id,
                    json!({"id": log.id, "request": sent, "upstream_text": done.raw, "response": done.body}),
                );
            }
            json_response(200, &done.body)
        }
        Err(e) => {
            log.set_error(&e);
            log.finish();
            error_response(&e)
        }
    }
}

fn stream_reply(app: &App, p: Prepared, log: RequestLog) -> Response {
    let tracing = app.trace.is_some();
    let translator = StreamTranslator::new(
        p.plan,
        p.upstream.format,
        p.upstream.reasoning,
        log.id.clone(),
        unix_now(),
        tracing,
    );
    let state = StreamState {
        upstream: Box::pin(p.response.bytes_stream()),
        decoder: SseDecoder::default(),
        translator,
        keepalive: app.keepalive,
        max_silence: app.max_silence,
        last_sent: tokio::time::Instant::now(),
        last_upstream: tokio::time::Instant::now(),
        done: false,
        closing: app.closing.clone(),
        log,
        trace: app.trace.clone().zip(p.sent).map(|(tracer, sent)| (tracer, sent, Vec::new())),
    };
    let body = futures_util::stream::unfold(state, |mut state| async move {
        let frame = state.next_frame().await?;
        Some((Ok::<_, Infallible>(frame), state))
    });
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

type ByteStream = std::pin::Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// The state of one client stream. Dropping it (the client went away) drops the upstream
/// response, which closes that connection: vLLM then aborts the generation.
struct StreamState {
    upstream: ByteStream,
    decoder: SseDecoder,
    translator: StreamTranslator,
    keepalive: Duration,
    /// Upstream silence longer than this ends the stream with an error (a hung vLLM).
    max_silence: Duration,
    /// When the client last got bytes: keep-alives are timed from here, so a client never
    /// waits longer than `keepalive` even while upstream text is held back (a Hermes block,
    /// a dropped call).
    last_sent: tokio::time::Instant,
    last_upstream: tokio::time::Instant,
    done: bool,
    /// The proxy's shutdown grace is over: end with an error instead of waiting on vLLM.
    closing: tokio_util::sync::CancellationToken,
    log: RequestLog,
    trace: Option<(Arc<super::trace::Tracer>, Value, Vec<u8>)>,
}

impl StreamState {
    /// The next bytes for the client; `None` ends the body.
    async fn next_frame(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        let mut payloads = Vec::new();
        loop {
            let waited = Instant::now();
            let next = tokio::select! {
                next = tokio::time::timeout_at(self.last_sent + self.keepalive, self.upstream.next()) => next,
                () = self.closing.cancelled() => return Some(self.fail(&App::closing_error())),
            };
            self.log.upstream += waited.elapsed();
            let bytes = match next {
                // Nothing for the client for a while (a long prefill, held-back text): an SSE
                // comment keeps RunPod's proxy (100 s) and others from closing the request.
                Err(_) => {
                    if self.last_upstream.elapsed() > self.max_silence {
                        let message = format!(
                            "upstream sent nothing for {} s; giving up (is vLLM hung? check `podctl status`)",
                            self.max_silence.as_secs()
                        );
                        return Some(self.fail(&ApiError::new(ErrorKind::GatewayTimeout, message)));
                    }
                    self.last_sent = tokio::time::Instant::now();
                    return Some(Bytes::from_static(b": keep-alive\n\n"));
                }
                Ok(None) => {
                    let message = "upstream closed the stream before the answer finished";
                    return Some(self.fail(&ApiError::new(ErrorKind::BadGateway, message)));
                }
                Ok(Some(Err(e))) => {
                    let message = format!("upstream stream failed: {e}");
                    return Some(self.fail(&ApiError::new(ErrorKind::BadGateway, message)));
                }
                Ok(Some(Ok(bytes))) => {
                    self.last_upstream = tokio::time::Instant::now();
                    bytes
                }
            };
            if let Err(e) = self.decoder.feed(&bytes, &mut payloads) {
                return Some(self.fail(&ApiError::new(ErrorKind::BadGateway, e.to_string())));
            }
            let mut out = Vec::new();
            for payload in payloads.drain(..) {
                match self.translator.on_payload(&payload, &mut out) {
                    Ok(Progress::More) => {}
                    Ok(Progress::Done) => {
                        self.complete(&out);
                        return Some(Bytes::from(out));
                    }
                    Err(e) => {
                        if let Some((_, _, sent)) = &mut self.trace {
                            sent.extend_from_slice(&out);
                        }
                        let mut frame = out;
                        frame.extend_from_slice(&self.fail(&e));
                        return Some(Bytes::from(frame));
                    }
                }
            }
            if !out.is_empty() {
                if let Some((_, _, sent)) = &mut self.trace {
                    sent.extend_from_slice(&out);
                }
                self.last_sent = tokio::time::Instant::now();
                return Some(Bytes::from(out));
            }
        }
    }

    /// A stream that cannot go on: one error event, then the body ends without `[DONE]`
    /// so it never looks complete.
    fn fail(&mut self, error: &ApiError) -> Bytes {
        self.done = true;
        self.log.set_error(error);
        let mut frame = Vec::new();
        push_event(&mut frame, &error.stream_payload());
        self.close(&frame);
        Bytes::from(frame)
    }

    fn complete(&mut self, last: &[u8]) {
        self.done = true;
        self.log.status = 200;
        self.close(last);
    }

    fn close(&mut self, last: &[u8]) {
        let (calls, finish) = self.translator.summary();
        self.log.tool_calls = calls;
        self.log.finish = finish;
        self.log.finish();
        if let Some((tracer, sent, mut frames)) = self.trace.take() {
            frames.extend_from_slice(last);
            let record = json!({"id": self.log.id, "request": sent, "upstream_text": self.translator.raw(),
                "response_stream": String::from_utf8_lossy(&frames)});
            tracer.write(&self.log.id, record);
        }
    }
}
