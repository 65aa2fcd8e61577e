//! Sends one client request upstream: picks a replica of the requested model, retries on
//! another after a connect error or a 429/502/503/504 (with backoff, within the request's
//! deadline), falls back to the next model when no replica of one can serve, and records
//! each outcome in the replica's health. Nothing is retried once the client may have seen
//! a byte: a whole answer is read before it is returned, and a stream is handed over with
//! its first chunk (or once it has been silent for `peek`).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use futures_util::StreamExt as _;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::health::{Change, Outcome};
use super::model::Model;
use super::replica::{InFlight, Replica};
use super::retry::{RetryReason, backoff, unhealthy_status};
use super::table::Table;
use super::transport;
pub(crate) use super::transport::{BoxError, ByteStream};
use crate::openai::{ApiError, ErrorKind};
use crate::proxy::gate::Gate;
use crate::proxy::metrics::Metrics;

/// Where the request goes on a replica.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    /// `/v1/chat/completions` (its URL is parsed once per replica).
    Chat,
    /// Under the `/v1` base.
    V1(&'static str),
    /// Under the server root (vLLM's own endpoints).
    Root(&'static str),
}

/// How the answer is taken.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    /// Read whole (retried if the body breaks).
    Whole,
    /// Streamed: committed with the first chunk, or after `peek` without one.
    Stream { peek: Duration },
}

/// The request body for a model, given its upstream id (the model name inside changes).
pub(crate) enum Payload<'a> {
    None,
    Fixed(Bytes),
    PerModel(&'a mut (dyn FnMut(&str, &Model) -> Result<Bytes, ApiError> + Send + Sync)),
}

/// One request to send.
pub(crate) struct Request<'a> {
    pub(crate) table: &'a Table,
    /// The requested model, then its fallbacks.
    pub(crate) chain: Vec<Arc<Model>>,
    pub(crate) affinity: Option<u64>,
    pub(crate) target: Target,
    pub(crate) method: http::Method,
    pub(crate) mode: Mode,
    pub(crate) payload: Payload<'a>,
    pub(crate) closing: &'a CancellationToken,
    pub(crate) metrics: &'a Metrics,
    /// Waits for a model started on demand (`podctl serve`).
    pub(crate) gate: Option<&'a dyn Gate>,
    /// Told when the gate makes this request wait for a model to load (a streaming
    /// request then commits to its stream and keeps it alive while it waits).
    pub(crate) loading: Option<&'a tokio::sync::Notify>,
}

/// A successful upstream answer, committed to.
pub(crate) struct Answer {
    /// The model that answered (a fallback's, when one served).
    pub(crate) model: Arc<Model>,
    /// Holds the replica's in-flight count until the answer is done.
    pub(crate) guard: InFlight,
    pub(crate) status: u16,
    pub(crate) content_type: Option<http::HeaderValue>,
    pub(crate) body: Body,
    /// Time spent waiting on upstreams, all attempts together.
    pub(crate) waited: Duration,
}

pub(crate) enum Body {
    Whole(Bytes),
    Stream { first: Option<Bytes>, rest: ByteStream },
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("model", &self.model.label)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Answer {
    pub(crate) fn replica(&self) -> &Arc<Replica> {
        self.guard.replica()
    }
}

/// What one attempt came to.
enum Attempt {
    Done(Answer),
    /// Final: the client gets this error (its request was wrong, or the deadline passed).
    Fail(ApiError),
    /// Worth another replica.
    Retry {
        error: ApiError,
        reason: RetryReason,
    },
}

impl Request<'_> {
    pub(crate) async fn send(mut self) -> Result<Answer, ApiError> {
        let started = Instant::now();
        let deadline = started + self.table.router.timeout;
        let max_attempts = 1 + self.table.router.num_retries;
        let mut tried: Vec<u64> = Vec::new();
        let mut last: Option<ApiError> = None;
        let mut attempts = 0u32;
        let mut failed: Option<(String, String, RetryReason)> = None;
        let chain = std::mem::take(&mut self.chain);
        let primary = chain.first().map(|m| m.label.clone()).unwrap_or_default();
        for (position, model) in chain.iter().enumerate() {
            let mut ticket = match self.admit(model).await {
                Ok(t) => t,
                Err(e) if position + 1 == chain.len() => return Err(e),
                Err(e) => {
                    last = Some(e);
                    continue;
                }
            };
            if model.pick(self.affinity, &tried, 0).is_none() {
                continue;
            }
            // The body first: learning the model id may wait, and the replica is chosen
            // after that, on the load as it is then.
            let payload = match self.payload_for(model).await {
                Ok(p) => p,
                Err(Skip::Final(e)) => return Err(e),
                Err(Skip::Model(e)) => {
                    last = Some(e);
                    continue;
                }
            };
            if position > 0 {
                self.metrics.fallback(&primary, &model.label);
                tracing::warn!(from = %primary, to = %model.label, "no replica of `{primary}` can serve: falling back to `{}`", model.label);
            }
            loop {
                if attempts >= max_attempts || Instant::now() >= deadline {
                    return Err(Self::exhausted(last, attempts));
                }
                if attempts > 0 {
                    let wait = backoff(attempts, fastrand::u64(..));
                    tokio::time::sleep_until((Instant::now() + wait).min(deadline)).await;
                }
                let Some(replica) = model.pick(self.affinity, &tried, fastrand::u64(..)).cloned() else {
                    break;
                };
                if let Some((label, name, reason)) = failed.take() {
                    // Counted when taken: a failure with nowhere left to go is no retry.
                    self.metrics.retry(&label, &name, reason);
                }
                attempts += 1;
                tried.push(replica.id);
                match self.attempt(model, &replica, payload.clone(), deadline, started).await {
                    Attempt::Done(mut answer) => {
                        answer.guard.hold(ticket.take());
                        return Ok(answer);
                    }
                    Attempt::Fail(e) => return Err(e),
                    Attempt::Retry { error, reason } => {
                        failed = Some((model.label.clone(), replica.name.clone(), reason));
                        last = Some(error);
                    }
                }
            }
        }
        if attempts > 0 {
            return Err(Self::exhausted(last, attempts));
        }
        // Nothing available anywhere: try the primary's replica that recovers first.
        let Some(model) = chain.first() else {
            return Err(ApiError::new(ErrorKind::Internal, "no model configured"));
        };
        let Some(replica) = model.last_resort(&tried).cloned() else {
            return Err(
                last.unwrap_or_else(|| ApiError::new(ErrorKind::Unavailable, "no replica configured"))
            );
        };
        let payload = match self.payload_for(model).await {
            Ok(p) => p,
            Err(Skip::Final(e) | Skip::Model(e)) => return Err(e),
        };
        match self.attempt(model, &replica, payload, deadline, started).await {
            Attempt::Done(answer) => Ok(answer),
            Attempt::Fail(e) | Attempt::Retry { error: e, .. } => Err(Self::exhausted(Some(e), 1)),
        }
    }

    /// Passes the gate, when there is one: waits until `model` is loaded. A model just
    /// loaded is taken as up at once (the health probe may still remember it stopped).
    async fn admit(&self, model: &Model) -> Result<Option<crate::proxy::gate::Ticket>, ApiError> {
        let Some(gate) = self.gate else { return Ok(None) };
        let mut admission = gate.admit(&model.label);
        let admitted = tokio::select! {
            biased;
            admitted = &mut admission => admitted,
            () = std::future::ready(()) => {
                // Not ready at once: the model is starting, waking or waiting for room.
                if let Some(loading) = self.loading {
                    loading.notify_one();
                }
                admission.await
            }
        };
        let Some(ticket) = admitted.transpose()? else { return Ok(None) };
        let policy = self.table.policy();
        for replica in &model.replicas {
            if !replica.available(std::time::Instant::now()) {
                replica.on_probe(Outcome::Ok, policy);
            }
        }
        Ok(Some(ticket))
    }

    /// The body for `model` (built once per model).
    async fn payload_for(&mut self, model: &Model) -> Result<Option<Bytes>, Skip> {
        let body = match &mut self.payload {
            Payload::None => None,
            Payload::Fixed(bytes) => Some(bytes.clone()),
            Payload::PerModel(make) => {
                let id = model.model_id().await.map_err(Skip::Model)?;
                Some(make(&id, model).map_err(Skip::Final)?)
            }
        };
        Ok(body)
    }

    fn exhausted(last: Option<ApiError>, attempts: u32) -> ApiError {
        let Some(mut error) = last else {
            return ApiError::new(
                ErrorKind::Unavailable,
                "no replica can serve this model right now (all cooling down or starting); see `podctl status`",
            );
        };
        if attempts > 1 {
            error.message = format!("all {attempts} attempts failed; the last: {}", error.message);
        }
        error
    }

    async fn attempt(
        &self,
        model: &Arc<Model>,
        replica: &Arc<Replica>,
        payload: Option<Bytes>,
        deadline: Instant,
        started: Instant,
    ) -> Attempt {
        let policy = self.table.policy();
        let note = |outcome: Outcome| {
            if replica.on_request(outcome, policy) == Change::CooledDown {
                self.metrics.cooldown(&model.label, &replica.name);
                tracing::warn!(replica = %replica.name, model = %model.label, "replica put in cooldown for {} s", policy.cooldown.as_secs());
            }
        };
        let guard = replica.begin();
        let parsed;
        let uri = match self.target {
            Target::Chat => replica.chat_uri.as_ref(),
            Target::V1(path) => {
                parsed = format!("{}{path}", replica.base).parse::<http::Uri>().ok();
                parsed.as_ref()
            }
            Target::Root(path) => {
                parsed = format!("{}{path}", replica.root).parse::<http::Uri>().ok();
                parsed.as_ref()
            }
        };
        let Some(uri) = uri else {
            return Attempt::Fail(ApiError::new(
                ErrorKind::Internal,
                format!("bad upstream URL {}", replica.base),
            ));
        };
        let sent = tokio::select! {
            sent = tokio::time::timeout_at(deadline, replica.send(self.method.clone(), uri, payload)) => sent,
            () = self.closing.cancelled() => return Attempt::Fail(closing_error()),
        };
        let response = match sent {
            Err(_) => {
                note(Outcome::Failed("no answer within the deadline".into()));
                return Attempt::Fail(self.timed_out(replica));
            }
            Ok(Err(e)) => {
                let (outcome, reason) = if e.connect {
                    (Outcome::Unreachable(e.message.clone()), RetryReason::Connect)
                } else {
                    (Outcome::Failed(e.message.clone()), RetryReason::Send)
                };
                note(outcome);
                return Attempt::Retry { error: replica.unreachable_because(&e.message), reason };
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status;
        if !(200..300).contains(&status) {
            let body = tokio::time::timeout_at(deadline, response.bytes())
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            if status == 404 {
                // vLLM may have been restarted with another model: learn it again next time.
                model.forget_model();
            }
            let error = replica.error(status, &body);
            if let Some(reason) = RetryReason::for_status(status) {
                note(Outcome::Failed(format!("HTTP {status}")));
                return Attempt::Retry { error, reason };
            }
            note(if unhealthy_status(status) {
                Outcome::Failed(format!("HTTP {status}"))
            } else {
                Outcome::Ok
            });
            return Attempt::Fail(error);
        }
        let content_type = response.content_type.clone();
        let answer = |body: Body| Answer {
            model: Arc::clone(model),
            guard,
            status,
            content_type,
            body,
            waited: started.elapsed(),
        };
        match self.mode {
            Mode::Whole => {
                let read = tokio::select! {
                    read = tokio::time::timeout_at(deadline, response.bytes()) => read,
                    () = self.closing.cancelled() => return Attempt::Fail(closing_error()),
                };
                match read {
                    Err(_) => {
                        note(Outcome::Failed("no answer within the deadline".into()));
                        Attempt::Fail(self.timed_out(replica))
                    }
                    Ok(Err(e)) => {
                        note(Outcome::Failed(e.message.clone()));
                        let error = ApiError::new(
                            ErrorKind::BadGateway,
                            format!("upstream {} broke off its answer ({})", replica.base, e.message),
                        );
                        Attempt::Retry { error, reason: RetryReason::Read }
                    }
                    Ok(Ok(bytes)) => {
                        note(Outcome::Ok);
                        Attempt::Done(answer(Body::Whole(bytes)))
                    }
                }
            }
            Mode::Stream { peek } => {
                let mut rest: ByteStream = response.stream();
                let until = (Instant::now() + peek).min(deadline);
                let first = tokio::select! {
                    first = tokio::time::timeout_at(until, rest.next()) => first,
                    () = self.closing.cancelled() => return Attempt::Fail(closing_error()),
                };
                match first {
                    // Silent for a while (a long prefill): commit, keep-alives take over.
                    Err(_) => Attempt::Done(answer(Body::Stream { first: None, rest })),
                    Ok(Some(Ok(first))) => {
                        note(Outcome::Ok);
                        Attempt::Done(answer(Body::Stream { first: Some(first), rest }))
                    }
                    Ok(Some(Err(e))) => {
                        let why = transport::describe("broke off", e.as_ref());
                        note(Outcome::Failed(why.clone()));
                        let error = ApiError::new(
                            ErrorKind::BadGateway,
                            format!("upstream {} {why} before the first byte", replica.base),
                        );
                        Attempt::Retry { error, reason: RetryReason::Read }
                    }
                    Ok(None) => {
                        note(Outcome::Failed("empty stream".into()));
                        let error = ApiError::new(
                            ErrorKind::BadGateway,
                            format!("upstream {} closed its stream without sending anything", replica.base),
                        );
                        Attempt::Retry { error, reason: RetryReason::Read }
                    }
                }
            }
        }
    }

    fn timed_out(&self, replica: &Replica) -> ApiError {
        ApiError::new(
            ErrorKind::GatewayTimeout,
            format!(
                "no answer from {} within the request deadline of {} s (router timeout_secs)",
                replica.base,
                self.table.router.timeout.as_secs()
            ),
        )
    }
}

/// The error requests still open get when the proxy's shutdown grace is over.
pub(crate) fn closing_error() -> ApiError {
    ApiError::new(ErrorKind::Unavailable, "the proxy is shutting down; this request was cut off")
}

/// Why a model was skipped while building its body.
enum Skip {
    /// The request itself is wrong: no other model would take it either.
    Final(ApiError),
    /// This model cannot be used (its id cannot be learned): try the next.
    Model(ApiError),
}
