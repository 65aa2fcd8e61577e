//! The routing [`Table`]: every model with its replicas, the keys and the router settings,
//! built from the config (keeping the replicas a reload does not change), and the lookups
//! a request makes in it.

use std::sync::Arc;
use std::time::Instant;

use super::health::Policy;
use super::model::Model;
use super::replica::{Replica, ReplicaStatus};
use super::transport::Transport;
use crate::openai::{ApiError, ErrorKind};
use crate::proxy::config::{ProxyConfig, RouterConfig};
use crate::proxy::keys::Keys;

/// Everything a reload may change: models, replicas, keys and router settings. Requests
/// take a snapshot (`Arc<Table>`) when they start, so a reload never disturbs them.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) models: Vec<Arc<Model>>,
    pub(crate) keys: Keys,
    pub(crate) router: RouterConfig,
    pub(crate) metrics_public: bool,
}

/// A model's status for `podctl status`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModelStatus {
    pub name: String,
    pub replicas: Vec<ReplicaStatus>,
    /// Under `podctl serve`: the model's load state (`stopped`, `starting`, `ready`,
    /// `sleeping`, `stopping`, `failed`), as `/v1/models` lists it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<String>,
}

impl Table {
    /// Builds the table for `config`. Replicas also in `previous` (same URL, key and
    /// weight) are kept, with their health and in-flight counts.
    pub(crate) fn build(config: &ProxyConfig, previous: Option<&Self>, transport: &Transport) -> Self {
        let old: Vec<&Arc<Replica>> =
            previous.map(|p| p.models.iter().flat_map(|m| &m.replicas).collect()).unwrap_or_default();
        let models = config
            .models
            .iter()
            .map(|m| {
                let replicas = m
                    .replicas
                    .iter()
                    .map(|r| match old.iter().find(|o| o.same_as(r)) {
                        Some(kept) => Arc::clone(kept),
                        None => Arc::new(Replica::new(r, transport.clone())),
                    })
                    .collect();
                let model = Model::new(m, replicas);
                if let Some(before) = previous.and_then(|p| p.models.iter().find(|o| o.label == model.label))
                {
                    model.inherit(before);
                }
                Arc::new(model)
            })
            .collect();
        Self {
            models,
            keys: Keys::new(&config.keys, config.max_in_flight_per_key),
            router: config.router.clone(),
            metrics_public: config.metrics_public,
        }
    }

    pub(crate) fn policy(&self) -> Policy {
        Policy { allowed_fails: self.router.allowed_fails, cooldown: self.router.cooldown }
    }

    /// Every replica once (a replica may serve under several models only by configuration
    /// mistake, but it is probed once).
    pub(crate) fn replicas(&self) -> Vec<&Arc<Replica>> {
        let mut all: Vec<&Arc<Replica>> = Vec::new();
        for r in self.models.iter().flat_map(|m| &m.replicas) {
            if !all.iter().any(|a| Arc::ptr_eq(a, r)) {
                all.push(r);
            }
        }
        all
    }

    /// The model `requested` names (a name, an alias or an upstream id); the first model
    /// when the request names none.
    pub(crate) async fn resolve(&self, requested: Option<&str>) -> Result<Arc<Model>, ApiError> {
        let Some(name) = requested else {
            return self
                .models
                .first()
                .cloned()
                .ok_or_else(|| ApiError::new(ErrorKind::Internal, "no model configured"));
        };
        if let Some(model) = self.by_name(name) {
            return Ok(Arc::clone(model));
        }
        let mut failure = None;
        for model in &self.models {
            match model.model_id().await {
                Ok(id) if &*id == name => return Ok(Arc::clone(model)),
                Ok(_) => {}
                Err(e) => failure = Some(e),
            }
        }
        // Patterns (`claude-*`, a catch-all `*`) last: a name a model has exactly, or its
        // upstream id, always wins.
        if let Some(model) = self.models.iter().find(|m| m.matches(name)) {
            return Ok(Arc::clone(model));
        }
        // A replica we could not ask may be the one serving it: say that, not "unknown".
        if let Some(e) = failure {
            return Err(e);
        }
        Err(ApiError::new(
            ErrorKind::NotFound,
            format!(
                "The model `{name}` does not exist. This proxy serves: {}",
                self.served_names().join(", ")
            ),
        )
        .param("model"))
    }

    fn by_name(&self, name: &str) -> Option<&Arc<Model>> {
        self.models.iter().find(|m| m.answers_to(name))
    }

    /// `model`, then its fallbacks in order (each once; unknown names were refused when
    /// the config was read).
    pub(crate) fn chain(&self, model: &Arc<Model>) -> Vec<Arc<Model>> {
        let mut chain = vec![Arc::clone(model)];
        for name in &model.fallbacks {
            if let Some(next) = self.by_name(name)
                && !chain.iter().any(|m| Arc::ptr_eq(m, next))
            {
                chain.push(Arc::clone(next));
            }
        }
        chain
    }

    /// Every name a client may use: names and aliases, then upstream ids.
    pub(crate) fn served_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.models.iter().flat_map(|m| m.names.clone()).collect();
        names.extend(self.models.iter().filter_map(|m| m.known_id().map(|id| id.to_string())));
        names.dedup();
        names
    }

    pub(crate) fn status(&self) -> Vec<ModelStatus> {
        let now = Instant::now();
        self.models
            .iter()
            .map(|m| ModelStatus {
                name: m.label.clone(),
                replicas: m.replicas.iter().map(|r| r.status(now)).collect(),
                load: None,
            })
            .collect()
    }
}
