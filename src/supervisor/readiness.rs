//! Ready means vLLM's `GET /health` answers 200 **and** `GET /v1/models` lists the served
//! name (vLLM binds early; `Uvicorn running on` never appears in current vLLM).

use std::time::Duration;

/// Where to ask.
#[derive(Debug, Clone)]
pub struct Probe {
    client: reqwest::Client,
    base: String,
    served: String,
    key: Option<String>,
}

/// What vLLM answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Refused, timed out or not HTTP.
    Down,
    /// Answering, but `/health` is not 200 yet or the name is not listed.
    NotReady,
    Ready,
}

impl Probe {
    /// `host` as vLLM binds it (`0.0.0.0` is asked on loopback).
    pub fn new(host: &str, port: u16, served: &str, key: Option<String>) -> Self {
        let host = crate::procs::connect_host(host);
        let client =
            reqwest::Client::builder().timeout(Duration::from_secs(2)).no_proxy().build().unwrap_or_default();
        Self { client, base: format!("http://{host}:{port}"), served: served.to_owned(), key }
    }

    pub async fn check(&self) -> Health {
        match self.client.get(format!("{}/health", self.base)).send().await {
            Err(_) => return Health::Down,
            Ok(r) if !r.status().is_success() => return Health::NotReady,
            Ok(_) => {}
        }
        let mut req = self.client.get(format!("{}/v1/models", self.base));
        if let Some(k) = &self.key {
            req = req.bearer_auth(k);
        }
        let Ok(resp) = req.send().await else { return Health::NotReady };
        let Ok(body) = resp.json::<serde_json::Value>().await else { return Health::NotReady };
        let listed = body["data"]
            .as_array()
            .is_some_and(|models| models.iter().any(|m| m["id"].as_str() == Some(self.served.as_str())));
        if listed { Health::Ready } else { Health::NotReady }
    }
}
