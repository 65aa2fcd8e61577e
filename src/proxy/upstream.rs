//! The vLLM server behind the proxy: an HTTP client with pooled connections, and the
//! model id it serves (learned from its `/v1/models`, cached, re-learned on demand).

use std::time::Duration;

use serde_json::Value;
use std::sync::{Arc, RwLock};

use super::config::ModelConfig;
use crate::openai::{ApiError, ErrorKind};
use crate::toolcall::{Format, Reasoning};

/// One upstream model endpoint.
#[derive(Debug)]
pub(crate) struct Upstream {
    /// `http://host:port/v1`.
    pub(crate) base: String,
    /// `http://host:port` (vLLM's `/health`, `/tokenize`, `/version` live here).
    pub(crate) root: String,
    /// `{base}/chat/completions`, parsed once (URL parsing is not free per request).
    pub(crate) chat_url: Option<reqwest::Url>,
    /// The name clients use, if any.
    pub(crate) alias: Option<String>,
    pub(crate) format: Format,
    pub(crate) reasoning: Reasoning,
    key: Option<String>,
    client: reqwest::Client,
    /// The upstream's `/v1/models` entry for the served model and its id, once known
    /// (the id apart, so the per-request lookup clones an `Arc`, not a JSON tree).
    model: RwLock<Option<(Arc<str>, Value)>>,
}

impl Upstream {
    pub(crate) fn new(config: &ModelConfig, client: reqwest::Client) -> Self {
        let base = config.upstream.clone();
        let root = base.strip_suffix("/v1").unwrap_or(&base).to_owned();
        let chat_url = reqwest::Url::parse(&format!("{base}/chat/completions")).ok();
        Self {
            chat_url,
            base,
            root,
            alias: config.name.clone(),
            format: config.tool_format,
            reasoning: config.reasoning,
            key: config.upstream_key.clone(),
            client,
            model: RwLock::new(None),
        }
    }

    /// A request to `url` with the upstream's key, if it has one.
    pub(crate) fn request(
        &self,
        method: reqwest::Method,
        url: impl reqwest::IntoUrl,
    ) -> reqwest::RequestBuilder {
        let builder = self.client.request(method, url);
        match &self.key {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        }
    }

    /// The upstream's model id, learning it from `/v1/models` when not yet known.
    pub(crate) async fn model_id(&self) -> Result<Arc<str>, ApiError> {
        if let Some(id) = self.known_id() {
            return Ok(id);
        }
        let entry = self.fetch_model().await?;
        let id: Arc<str> = entry.get("id").and_then(Value::as_str).unwrap_or_default().into();
        *self.model.write().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((Arc::clone(&id), entry));
        Ok(id)
    }

    /// The model id, if already learned.
    pub(crate) fn known_id(&self) -> Option<Arc<str>> {
        self.model
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|(id, _)| Arc::clone(id))
    }

    /// The cached `/v1/models` entry (for listing), if known.
    pub(crate) fn model_entry(&self) -> Option<Value> {
        self.model
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|(_, entry)| entry.clone())
    }

    /// Forgets the model id (the upstream may have been restarted with another model).
    pub(crate) fn forget_model(&self) {
        *self.model.write().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    async fn fetch_model(&self) -> Result<Value, ApiError> {
        let url = format!("{}/models", self.base);
        let response = self
            .request(reqwest::Method::GET, &url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| self.unreachable(&e))?;
        if status == 401 || status == 403 {
            return Err(self.error(status, &body));
        }
        if status != 200 {
            let upstream = ApiError::from_upstream(status, &body);
            return Err(ApiError::new(
                ErrorKind::BadGateway,
                format!("cannot learn the model from {url}: HTTP {status}: {}", upstream.message),
            ));
        }
        let list: Value = serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(ErrorKind::BadGateway, format!("{url} did not answer JSON: {e}")))?;
        list.get("data")
            .and_then(Value::as_array)
            .and_then(|data| data.first())
            .cloned()
            .ok_or_else(|| ApiError::new(ErrorKind::BadGateway, format!("{url} lists no model")))
    }

    /// An error answer from the upstream, for the client. vLLM refusing *our* key is the
    /// proxy's configuration problem, not the client's: a 502 that says which key to set.
    pub(crate) fn error(&self, status: u16, body: &[u8]) -> ApiError {
        if status == 401 || status == 403 {
            return ApiError::new(
                ErrorKind::BadGateway,
                format!(
                    "vLLM at {} refused the proxy's key (HTTP {status}): set PODCTL_UPSTREAM_API_KEY (or `api_key_env` in the config) to the key vLLM was started with",
                    self.base
                ),
            );
        }
        ApiError::from_upstream(status, body)
    }

    /// The 502 for an upstream that cannot be reached, with the next step.
    pub(crate) fn unreachable(&self, error: &reqwest::Error) -> ApiError {
        let what = if error.is_timeout() {
            "did not answer in time"
        } else if error.is_connect() {
            "refused the connection"
        } else {
            "failed"
        };
        ApiError::new(
            ErrorKind::BadGateway,
            format!(
                "upstream {} {what} ({}). Is vLLM running? Check with `podctl status`",
                self.base,
                root_cause(error)
            ),
        )
    }
}

/// The innermost error message (reqwest wraps hyper wraps io).
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The shared HTTP client: pooled, no total timeout (streams run as long as the model
/// writes), a bounded connect time.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        // vLLM (uvicorn) closes idle connections after 5 s; reusing one it is closing fails
        // the request, so ours are dropped first.
        .pool_idle_timeout(Duration::from_secs(4))
        .tcp_keepalive(Duration::from_secs(30))
        .pool_max_idle_per_host(256)
        .build()
        .unwrap_or_default()
}
