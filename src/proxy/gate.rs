//! The gate a request passes before it is routed, for a proxy in front of models that are
//! started on demand (`podctl serve`): [`Gate::admit`] waits until the named model can take
//! the request (starting it, or swapping out another first) and hands back a [`Ticket`] that
//! keeps the model loaded until the request ends, stream included. `podctl proxy` and
//! `start --proxy` have no gate. The proxy never learns how models are started: that stays
//! on the other side of this trait.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

use crate::openai::ApiError;

/// What a request holds while it runs: dropping it tells the gate the request ended.
pub struct Ticket(#[allow(dead_code)] Box<dyn Send + Sync>);

impl Ticket {
    pub fn new(hold: impl Send + Sync + 'static) -> Self {
        Self(Box::new(hold))
    }
}

impl Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ticket")
    }
}

/// One model's load state, as `/v1/models` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelState {
    /// The model's name (its `served_model_name`).
    pub name: String,
    /// `stopped`, `starting`, `ready`, `sleeping`, `stopping` or `failed`.
    pub state: &'static str,
    /// While starting: the start-up phase (`loading weights`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// When failed: why, in the words `podctl status` uses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What [`Gate::admit`] comes to: `None` when the gate does not manage the model.
pub type Admission<'a> = Pin<Box<dyn Future<Output = Option<Result<Ticket, ApiError>>> + Send + 'a>>;

/// Decides when a model can take a request.
pub trait Gate: Send + Sync + Debug {
    /// Waits until the model labelled `model` can serve (an error says why it cannot).
    /// `None`: the gate does not manage this model; route it as usual.
    fn admit<'a>(&'a self, model: &'a str) -> Admission<'a>;

    /// Every managed model's state.
    fn states(&self) -> Vec<ModelState>;

    /// More Prometheus families for `/metrics` (text exposition format).
    fn metrics(&self) -> String;
}

/// Adds `state` (and `phase`, `error`) to a `/v1/models` entry.
pub(crate) fn annotate(entry: &mut serde_json::Value, state: &ModelState) {
    if let (Some(map), Ok(serde_json::Value::Object(extra))) =
        (entry.as_object_mut(), serde_json::to_value(state))
    {
        map.extend(extra.into_iter().filter(|(k, _)| k != "name"));
    }
}
