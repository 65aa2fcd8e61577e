//! One request through the translation core, in any client API ([`Api`]): the request as a
//! chat request, rewritten for vLLM and routed, then its answer translated and written in
//! the client's API, streaming or not.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::app::{App, read_body};
use super::choice::Out;
use super::complete::{Translation, translate_completion};
use super::log::RequestLog;
use super::plan::Plan;
use super::reply::bytes_response;
use super::rewrite::ChatRequest;
use super::router::dispatch::{self, Answer, Body, BoxError, ByteStream, Mode, Payload, Target};
use super::router::{Change, InFlight, Model, Outcome, Policy};
use super::sse::{Payloads, SseDecoder};
use super::stream::{Progress, StreamTranslator};
use super::wire::{Api, Extra, StreamWire};
use crate::openai::{ApiError, ErrorKind, unix_now};

/// Answers one request of `api`.
pub(crate) async fn serve(api: &'static dyn Api, State(app): State<Arc<App>>, request: Request) -> Response {
    let mut log = RequestLog::new(&app, api.response_id(), api.endpoint());
    if app.gate.is_none() {
        let prepared = prepare(api, &app, request, &mut log, None).await;
        return reply(api, &app, prepared, log);
    }
    // Behind a gate (`podctl serve`) the model may have to load first: a streaming request
    // told so commits to its stream at once and keeps it alive while it waits.
    let loading = Arc::new(Loading::default());
    let mut work: Work = {
        let (app, loading) = (Arc::clone(&app), Arc::clone(&loading));
        Box::pin(async move {
            let prepared = prepare(api, &app, request, &mut log, Some(&loading)).await;
            (prepared, log)
        })
    };
    tokio::select! {
        biased;
        (prepared, log) = &mut work => reply(api, &app, prepared, log),
        () = loading.notify.notified() => loading_stream(api, app, work, &loading),
    }
}

/// How a request learns that it waits for its model to load.
#[derive(Default)]
struct Loading {
    /// Told when the gate makes the request wait.
    notify: Notify,
    /// With `loading_reasoning`: the stream's writer, made before the wait, and the model's
    /// name.
    early: std::sync::Mutex<Option<(Box<dyn StreamWire + Send>, String)>>,
}

/// The rest of a request's preparation, waiting for its model to load.
type Work = std::pin::Pin<Box<dyn Future<Output = (Result<Prepared, ApiError>, RequestLog)> + Send>>;

fn reply(
    api: &'static dyn Api,
    app: &App,
    prepared: Result<Prepared, ApiError>,
    mut log: RequestLog,
) -> Response {
    match prepared {
        Err(e) => {
            log.set_error(&e);
            log.finish();
            let refused = if log.stream { api.refused_stream(&e, &log.id, &log.model) } else { None };
            refused.unwrap_or_else(|| api.error_response(&e))
        }
        Ok(p) if p.plan.stream => stream_reply(api, app, p, log),
        Ok(p) => complete_reply(api, app, p, log),
    }
}

/// A streaming request whose model is loading: the stream begins now with keep-alives
/// (RunPod's proxy closes a request that gets nothing for 100 s, and a load takes minutes),
/// then goes on as any stream once the model is ready; a load that fails or times out ends
/// it with the API's error event, carrying the diagnosis.
fn loading_stream(api: &'static dyn Api, app: Arc<App>, work: Work, loading: &Loading) -> Response {
    enum Phase {
        Waiting { work: Work, note: Option<Note> },
        Streaming(Box<StreamState>),
        Done,
    }
    /// The reasoning lines that say the model is loading, through the stream's own writer.
    struct Note {
        wire: Box<dyn StreamWire + Send>,
        model: String,
        /// The phase last told.
        told: Option<String>,
    }
    impl Note {
        /// A line when the phase changed since the last one; the first begins the answer.
        fn tell(&mut self, app: &App, out: &mut Vec<u8>) {
            let model = &self.model;
            let phase = app.gate.as_ref().and_then(|g| g.states().into_iter().find(|s| s.name == *model));
            let phase = phase.map(|s| s.phase.unwrap_or_else(|| s.state.to_owned())).unwrap_or_default();
            if self.told.as_deref() == Some(phase.as_str()) {
                return;
            }
            if self.told.is_none() && self.wire.begin(0, out).is_err() {
                return;
            }
            let line = format!("Loading model `{model}`: {phase}…\n");
            if self.wire.item(0, &Out::Reasoning(line), out).is_ok() {
                self.told = Some(phase);
            }
        }
    }
    let keepalive = app.keepalive;
    let mut note = loading
        .early
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
        .map(|(wire, model)| Note { wire, model, told: None });
    let mut first = KEEPALIVE.to_vec();
    if let Some(note) = &mut note {
        note.tell(&app, &mut first);
    }
    let first = futures_util::stream::iter([Ok::<_, Infallible>(Bytes::from(first))]);
    let rest = futures_util::stream::unfold(Phase::Waiting { work, note }, move |phase| {
        let app = Arc::clone(&app);
        async move {
            match phase {
                Phase::Done => None,
                Phase::Streaming(mut state) => {
                    let frame = state.next_frame().await?;
                    Some((Ok(frame), Phase::Streaming(state)))
                }
                Phase::Waiting { mut work, mut note } => {
                    let (prepared, mut log) = tokio::select! {
                        done = &mut work => done,
                        () = tokio::time::sleep(keepalive) => {
                            let mut frame = KEEPALIVE.to_vec();
                            if let Some(note) = &mut note {
                                note.tell(&app, &mut frame);
                            }
                            return Some((Ok(Bytes::from(frame)), Phase::Waiting { work, note }));
                        }
                    };
                    // The writer that began the answer (it told the wait) goes on with it.
                    let begun = note.filter(|n| n.told.is_some()).map(|n| n.wire);
                    match prepared {
                        Ok(p) => {
                            let mut state = Box::new(stream_state(api, &app, p, log, begun));
                            let frame = state.next_frame().await?;
                            Some((Ok(frame), Phase::Streaming(state)))
                        }
                        Err(e) => {
                            log.set_error(&e);
                            log.finish();
                            let mut wire = begun.unwrap_or_else(|| {
                                api.stream_writer(
                                    &Plan::answering(&log.model),
                                    &Extra::default(),
                                    &log.id,
                                    unix_now(),
                                )
                            });
                            let mut frame = Vec::new();
                            wire.error(&e, &mut frame);
                            Some((Ok(Bytes::from(frame)), Phase::Done))
                        }
                    }
                }
            }
        }
    });
    sse_response(axum::body::Body::from_stream(first.chain(rest)))
}

/// An SSE comment: every client's SSE reader skips it, before its answer began or after.
const KEEPALIVE: &[u8] = b": keep-alive\n\n";

/// A response streaming `body` as server-sent events.
fn sse_response(body: axum::body::Body) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

struct Prepared {
    answer: Answer,
    plan: Plan,
    extra: Extra,
    /// What was sent upstream, kept only when tracing.
    sent: Option<Value>,
}

async fn prepare(
    api: &'static dyn Api,
    app: &App,
    request: Request,
    log: &mut RequestLog,
    loading: Option<&Loading>,
) -> Result<Prepared, ApiError> {
    let bytes = read_body(app, request).await?;
    let converted = api.to_chat(&bytes)?;
    let parsed = match &converted.layout {
        Some(layout) => ChatRequest::laid_out(&converted.chat, layout)?,
        None => ChatRequest::parse(&converted.chat)?,
    };
    let requested = parsed.model()?;
    let table = app.table();
    let model = table.resolve(requested.as_deref()).await?;
    model.label.clone_into(&mut log.model);
    let stream = parsed.wants_stream();
    log.stream = stream;
    // Affinity only chooses between replicas: with one, the conversation is not hashed.
    let affinity = if table.router.affinity && model.replicas.len() > 1 { parsed.affinity() } else { None };
    if let (Some(loading), true, true) = (loading, stream, app.loading_reasoning) {
        // The writer that tells the client its model is loading, and then writes the answer.
        // Only the request's name and stream options shape a writer: its tools do not.
        let (_, include_usage) = parsed.stream_flags()?;
        let plan = Plan {
            include_usage,
            hold_calls: !app.stream_tool_arguments,
            ..Plan::answering(requested.as_deref().unwrap_or(&model.label))
        };
        let wire = api.stream_writer(&plan, &converted.extra, &log.id, unix_now());
        *loading.early.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((wire, model.label.clone()));
    }
    let tracing = app.trace.is_some();
    let (mut plan, mut sent) = (None, None);
    let mut make = |id: &str, model: &Model| -> Result<Bytes, ApiError> {
        let (body, p) = parsed.rewrite(
            id,
            model.format.call_id_len(),
            model.format.upstream_parses(),
            &app.tools_cache,
        )?;
        if tracing {
            sent = Some(serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null));
        }
        plan = Some(p);
        Ok(Bytes::from(body))
    };
    let mode = if stream { Mode::Stream { peek: app.keepalive } } else { Mode::Whole };
    let answer = dispatch::Request {
        table: &table,
        chain: table.chain(&model),
        affinity,
        target: Target::Chat,
        method: reqwest::Method::POST,
        mode,
        payload: Payload::PerModel(&mut make),
        closing: &app.closing,
        metrics: &app.metrics,
        gate: app.gate.as_deref(),
        loading: loading.map(|l| &l.notify).filter(|_| stream),
    }
    .send()
    .await;
    let answer = answer.inspect_err(|_| log.upstream = log.elapsed())?;
    log.upstream += answer.waited;
    log.replica = Some(answer.replica().name.clone());
    answer.model.label.clone_into(&mut log.model);
    let mut plan = plan.ok_or_else(|| ApiError::new(ErrorKind::Internal, "no request was built"))?;
    plan.hold_calls = !app.stream_tool_arguments;
    Ok(Prepared { answer, plan, extra: converted.extra, sent })
}

/// Marks a response with the model that answered (a fallback's name, when one served).
fn served_by(response: &mut Response, answer: &Answer) {
    if let Ok(value) = HeaderValue::from_str(&answer.model.label) {
        response.headers_mut().insert("x-podctl-model", value);
    }
}

fn complete_reply(api: &'static dyn Api, app: &App, p: Prepared, mut log: RequestLog) -> Response {
    let Body::Whole(bytes) = &p.answer.body else {
        let e = ApiError::new(ErrorKind::Internal, "expected a whole answer");
        log.set_error(&e);
        log.finish();
        return api.error_response(&e);
    };
    let model = &p.answer.model;
    let translation = Translation {
        api,
        plan: &p.plan,
        extra: &p.extra,
        format: model.format,
        reasoning: model.reasoning,
        id: &log.id,
        keep_raw: app.trace.is_some(),
    };
    let result = translate_completion(bytes, &translation);
    match result {
        Ok(done) => {
            log.status = 200;
            log.tool_calls = done.calls;
            log.finish = done.finish;
            log.outcomes = done.outcomes;
            log.finish();
            if let (Some(tracer), Some(sent)) = (&app.trace, p.sent) {
                let response = serde_json::from_slice::<Value>(&done.body).unwrap_or(Value::Null);
                tracer.write(
                    &log.id,
                    json!({"id": log.id, "request": sent, "upstream_text": done.raw, "response": response}),
                );
            }
            let mut response = bytes_response(200, done.body);
            served_by(&mut response, &p.answer);
            response
        }
        Err(e) => {
            log.set_error(&e);
            log.finish();
            let refused = if log.stream { api.refused_stream(&e, &log.id, &log.model) } else { None };
            refused.unwrap_or_else(|| api.error_response(&e))
        }
    }
}

fn stream_reply(api: &'static dyn Api, app: &App, p: Prepared, log: RequestLog) -> Response {
    let model = p.answer.model.label.clone();
    let state = stream_state(api, app, p, log, None);
    let body = futures_util::stream::unfold(state, |mut state| async move {
        let frame = state.next_frame().await?;
        Some((Ok::<_, Infallible>(frame), state))
    });
    let mut response = sse_response(axum::body::Body::from_stream(body));
    if let Ok(value) = HeaderValue::from_str(&model) {
        response.headers_mut().insert("x-podctl-model", value);
    }
    response
}

/// `begun`: the writer that already began the answer (it said the model was loading).
fn stream_state(
    api: &'static dyn Api,
    app: &App,
    p: Prepared,
    log: RequestLog,
    begun: Option<Box<dyn StreamWire + Send>>,
) -> StreamState {
    let tracing = app.trace.is_some();
    let model = Arc::clone(&p.answer.model);
    let translator = if let Some(wire) = begun {
        StreamTranslator::new(p.plan, model.format, model.reasoning, tracing, wire).begun()
    } else {
        let wire = api.stream_writer(&p.plan, &p.extra, &log.id, unix_now());
        StreamTranslator::new(p.plan, model.format, model.reasoning, tracing, wire)
    };
    let upstream: ByteStream = match p.answer.body {
        Body::Stream { first, rest } => Box::pin(futures_util::stream::iter(first.map(Ok)).chain(rest)),
        Body::Whole(bytes) => Box::pin(futures_util::stream::iter([Ok(bytes)])),
    };
    StreamState {
        upstream,
        guard: p.answer.guard,
        policy: app.table().policy(),
        decoder: SseDecoder::default(),
        payloads: Payloads::default(),
        first: FirstBytes::NotYet,
        translator,
        keepalive: app.keepalive,
        max_silence: app.max_silence,
        // Timed from the request's arrival: waiting for the first chunk counts as silence.
        last_sent: tokio::time::Instant::from_std(log.started()),
        last_upstream: tokio::time::Instant::now(),
        done: false,
        closing: app.closing.clone(),
        log,
        trace: app.trace.clone().zip(p.sent).map(|(tracer, sent)| (tracer, sent, Vec::new())),
    }
}

/// The answer's first bytes: not yet translated, handed to the server, or written (the body
/// has since paused once, so the server did not hold them for the rest of a burst).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirstBytes {
    NotYet,
    Sent,
    Out,
}

/// The state of one client stream. Dropping it (the client went away) drops the upstream
/// response, which closes that connection: vLLM then aborts the generation.
struct StreamState {
    upstream: ByteStream,
    /// Counts this stream on its replica until it ends.
    guard: InFlight,
    /// The replica's health thresholds (a broken stream counts against it).
    policy: Policy,
    decoder: SseDecoder,
    /// Payloads decoded and not yet translated.
    payloads: Payloads,
    /// Where the answer's first bytes are.
    first: FirstBytes,
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
    /// The next bytes for the client; `None` ends the body. What one upstream read brought
    /// goes out as one frame (the plain transport passes a read on whole, however many
    /// events it held), except for the answer's first bytes, which go out as soon as they
    /// are translated.
    async fn next_frame(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        if self.first == FirstBytes::Sent {
            // The answer's first bytes are on their way only once the body stops being ready:
            // the server writes what a body gives while it can, and a burst would hold them.
            self.first = FirstBytes::Out;
            tokio::task::yield_now().await;
        }
        let mut out = Vec::new();
        loop {
            if !self.payloads.is_empty() {
                if let Some(last) = self.run_payloads(&mut out) {
                    return Some(last);
                }
                if !out.is_empty() {
                    return Some(self.emit(out));
                }
            }
            let bytes = match self.wait_upstream().await {
                Ok(Some(Ok(bytes))) => bytes,
                Ok(Some(Err(e))) => {
                    let message = format!("upstream stream failed: {e}");
                    self.broken(&message);
                    return Some(self.fail(&ApiError::new(ErrorKind::BadGateway, message)));
                }
                Ok(None) => {
                    let message = "upstream closed the stream before the answer finished";
                    self.broken(message);
                    return Some(self.fail(&ApiError::new(ErrorKind::BadGateway, message)));
                }
                Err(frame) => return Some(frame),
            };
            if let Err(e) = self.decoder.feed(&bytes, &mut self.payloads) {
                return Some(self.fail(&ApiError::new(ErrorKind::BadGateway, e.to_string())));
            }
            // The client's events are about as long as vLLM's.
            out.reserve(bytes.len() + 256);
        }
    }

    /// `out` to the client.
    fn emit(&mut self, out: Vec<u8>) -> Bytes {
        self.log.first_token();
        if let Some((_, _, sent)) = &mut self.trace {
            sent.extend_from_slice(&out);
        }
        self.last_sent = tokio::time::Instant::now();
        if self.first == FirstBytes::NotYet {
            self.first = FirstBytes::Sent;
        }
        Bytes::from(out)
    }

    /// Waits for upstream's next read. `Err` is the frame to send instead: a keep-alive
    /// after a silence, or the error that ends the stream.
    async fn wait_upstream(&mut self) -> Result<Option<Result<Bytes, BoxError>>, Bytes> {
        let waited = Instant::now();
        let next = tokio::select! {
            biased;
            next = tokio::time::timeout_at(self.last_sent + self.keepalive, self.upstream.next()) => next,
            () = self.closing.cancelled() => return Err(self.fail(&dispatch::closing_error())),
        };
        self.log.upstream += waited.elapsed();
        match next {
            // Nothing for the client for a while (a long prefill, held-back text): an SSE
            // comment keeps RunPod's proxy (100 s) and others from closing the request.
            Err(_) => {
                if self.last_upstream.elapsed() > self.max_silence {
                    let message = format!(
                        "upstream sent nothing for {} s; giving up (is vLLM hung? check `podctl status`)",
                        self.max_silence.as_secs()
                    );
                    return Err(self.fail(&ApiError::new(ErrorKind::GatewayTimeout, message)));
                }
                self.last_sent = tokio::time::Instant::now();
                Err(Bytes::from_static(self.translator.keepalive()))
            }
            Ok(next) => {
                self.last_upstream = tokio::time::Instant::now();
                Ok(next)
            }
        }
    }

    /// Translates the decoded payloads into `out`: all of them, or up to the answer's first
    /// bytes. `Some` is the stream's last frame (its end, or an error after what `out` held).
    fn run_payloads(&mut self, out: &mut Vec<u8>) -> Option<Bytes> {
        let mut last = None;
        while let Some(payload) = self.payloads.peek() {
            let translated = self.translator.on_payload(payload, out);
            self.payloads.take();
            match translated {
                Ok(Progress::More) if self.first == FirstBytes::NotYet && !out.is_empty() => break,
                Ok(Progress::More) => {}
                Ok(Progress::Done) => {
                    self.complete(out);
                    last = Some(Bytes::from(std::mem::take(out)));
                    break;
                }
                Err(e) => {
                    if let Some((_, _, sent)) = &mut self.trace {
                        sent.extend_from_slice(out);
                    }
                    let mut frame = std::mem::take(out);
                    frame.extend_from_slice(&self.fail(&e));
                    last = Some(Bytes::from(frame));
                    break;
                }
            }
        }
        last
    }

    /// The replica broke this stream: a failure on its record, so that when it died, the
    /// streams it was serving take it out of rotation before new requests find out.
    fn broken(&self, why: &str) {
        let replica = self.guard.replica();
        if replica.on_request(Outcome::Failed(why.to_owned()), self.policy) == Change::CooledDown {
            self.log.app().metrics.cooldown(&self.log.model, &replica.name);
            tracing::warn!(replica = %replica.name, "replica broke its streams: in cooldown");
        }
    }

    /// A stream that cannot go on: one error event, then the body ends without `[DONE]`
    /// so it never looks complete.
    fn fail(&mut self, error: &ApiError) -> Bytes {
        self.done = true;
        self.log.set_error(error);
        let mut frame = Vec::new();
        self.translator.error_frame(error, &mut frame);
        self.close(&frame);
        Bytes::from(frame)
    }

    fn complete(&mut self, last: &[u8]) {
        self.done = true;
        self.log.status = 200;
        self.close(last);
    }

    fn close(&mut self, last: &[u8]) {
        self.log.outcomes = self.translator.outcomes();
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
