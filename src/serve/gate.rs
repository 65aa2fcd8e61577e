//! [`FleetGate`]: the proxy's [`Gate`] answered by a [`Fleet`]: a request for one of the
//! fleet's models waits for it; any other name is routed as usual.

use std::sync::Arc;

use super::fleet::Fleet;
use crate::proxy::gate::{Admission, Gate, ModelState};

/// The gate the proxy asks.
#[derive(Debug)]
pub struct FleetGate(pub Arc<Fleet>);

impl Gate for FleetGate {
    fn admit<'a>(&'a self, model: &'a str) -> Admission<'a> {
        Box::pin(async move {
            let i = self.0.find(model)?;
            Some(self.0.acquire(i).await)
        })
    }

    fn states(&self) -> Vec<ModelState> {
        self.0.model_states()
    }

    fn metrics(&self) -> String {
        self.0.metrics.render()
    }
}
