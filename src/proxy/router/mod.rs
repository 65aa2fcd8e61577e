//! Routing over replicas: which model a request names, which replica serves it (least
//! loaded, with prefix affinity), retries on another replica before the first byte, and
//! fallback models when every replica of one is down. The pure policies are in
//! `balance`, `health` and `retry`; `table` holds the models, replicas and settings a
//! request is routed over, `dispatch` runs the policies against real requests, `probe`
//! keeps the health current and `transport` sends (plain `http://` replicas through
//! podctl's own HTTP/1.1 client, `h1`).

mod balance;
pub(crate) mod dispatch;
mod failure;
pub(crate) mod h1;
pub(crate) mod health;
mod model;
pub(crate) mod probe;
mod replica;
pub(crate) mod retry;
mod table;
pub(crate) mod transport;

pub(crate) use health::{Change, Outcome, Policy};
pub(crate) use model::Model;
pub(crate) use replica::InFlight;
pub use replica::{ReplicaState, ReplicaStatus};
pub use table::ModelStatus;
pub(crate) use table::Table;
