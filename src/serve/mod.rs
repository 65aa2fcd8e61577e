//! `podctl serve`: several models behind one proxy, each started when a request first
//! names it and swapped out when another needs its GPU.
//!
//! * [`policy`]: pure: which models fit together, which must stop first, which are idle.
//! * [`member`]: one model (profile, GPUs, limits) and its load state.
//! * [`fleet`]: the thin I/O: supervisors started and stopped as the policy says, requests
//!   admitted through the proxy's [`crate::proxy::gate::Gate`].
//! * [`gate`]: the fleet as the proxy's gate.
//! * [`metrics`]: swaps, starts, load and wait times for `/metrics`.
//! * [`control`]: the local socket `podctl load` / `unload` talk to.

pub mod control;
pub mod fleet;
pub mod gate;
pub mod member;
pub mod metrics;
pub mod policy;

pub use fleet::Fleet;
pub use gate::FleetGate;
pub use member::{Load, Member};
