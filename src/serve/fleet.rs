//! The models of one `podctl serve`, and the thin I/O around [`super::policy`]: each model
//! is stopped until a request names it, then started under its own [`Supervisor`] (restart
//! with backoff, fatal causes, health) after the models in its way have finished their
//! requests and stopped. Requests wait for their model through [`Gate::admit`](crate::proxy::gate::Gate::admit); the one that
//! finds it stopped queues its start, the others wait on the same start.
//!
//! Every change goes through one lock (`lives`) and is announced on `changed`; starts and
//! swaps are taken one at a time (`switch`), so two never fight over a GPU.

use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tokio_util::task::{AbortOnDropHandle, TaskTracker};

use super::member::{Load, Member};
use super::policy;
use crate::instance::{Instance, ProxyRecord, State, Store};
use crate::openai::{ApiError, ErrorKind};
use crate::proxy::gate::{ModelState, Ticket};
use crate::supervisor::logfile::{self, RotatingLog};
use crate::supervisor::{Outcome, Supervisor};

/// The live side of one member.
#[derive(Debug, Default)]
struct Live {
    load: Load,
    in_flight: u32,
    /// Requests waiting that arrived before a swap began to drain this model: they are
    /// served before it stops.
    early: u32,
    draining: bool,
    last_used: Duration,
    run: Option<Run>,
    /// When the current start began, until it is ready (for the load-time histogram).
    loading_since: Option<Instant>,
    /// Asleep (or waking): its run holds no GPU memory worth counting.
    asleep: bool,
}

#[derive(Debug)]
struct Run {
    stop: CancellationToken,
    task: AbortOnDropHandle<Outcome>,
}

/// Every model of a serve, and what runs of them.
#[derive(Debug)]
pub struct Fleet {
    members: Vec<Member>,
    store: Store,
    proxy: Option<ProxyRecord>,
    lives: Mutex<Vec<Live>>,
    changed: tokio::sync::watch::Sender<()>,
    switch: tokio::sync::Mutex<()>,
    began: Instant,
    shutdown: CancellationToken,
    hurry: CancellationToken,
    tasks: TaskTracker,
    /// The serve's own runtime: the fleet's tasks (starts, swaps, supervisors) run there,
    /// whichever event loop's request queued them, so none ends with a loop.
    runtime: tokio::runtime::Handle,
    pub metrics: super::metrics::Metrics,
}

impl Fleet {
    pub fn new(
        members: Vec<Member>,
        store: Store,
        proxy: Option<ProxyRecord>,
        shutdown: CancellationToken,
        hurry: CancellationToken,
    ) -> Arc<Self> {
        // Called on the serve's runtime (it panics elsewhere, as `tokio::spawn` would).
        let lives = members.iter().map(|_| Live::default()).collect();
        Arc::new(Self {
            members,
            store,
            proxy,
            lives: Mutex::new(lives),
            changed: tokio::sync::watch::Sender::new(()),
            switch: tokio::sync::Mutex::new(()),
            began: Instant::now(),
            shutdown,
            hurry,
            tasks: TaskTracker::new(),
            runtime: tokio::runtime::Handle::current(),
            metrics: super::metrics::Metrics::default(),
        })
    }

    pub fn members(&self) -> &[Member] {
        &self.members
    }

    fn lives(&self) -> std::sync::MutexGuard<'_, Vec<Live>> {
        self.lives.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> Duration {
        self.began.elapsed()
    }

    fn announce(&self) {
        self.changed.send_replace(());
    }

    /// The index of the member serving `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.members.iter().position(|m| m.answers_to(name))
    }

    /// Waits until member `i` is ready and counts a request on it.
    pub async fn acquire(self: &Arc<Self>, i: usize) -> Result<Ticket, ApiError> {
        let member = &self.members[i];
        let deadline = tokio::time::Instant::now() + member.wait_limit();
        let mut changed = self.changed.subscribe();
        let early = {
            let mut lives = self.lives();
            let live = &mut lives[i];
            let early = !live.draining;
            if early {
                live.early += 1;
            }
            early
        };
        let _waiting = Waiting { fleet: Arc::downgrade(self), i, early };
        let arrived = Instant::now();
        let mut waited = false;
        loop {
            changed.mark_unchanged();
            let queue = {
                let mut lives = self.lives();
                let live = &mut lives[i];
                match &live.load {
                    Load::Ready if early || !live.draining => {
                        live.in_flight += 1;
                        live.last_used = self.now();
                        drop(lives);
                        if waited {
                            self.metrics.waited(member.served_name(), arrived.elapsed());
                        }
                        return Ok(Ticket::new(Hold { fleet: Arc::downgrade(self), i }));
                    }
                    Load::Failed(problem) => return Err(member.diagnosis(problem)),
                    Load::Stopped if !live.draining => {
                        live.load = Load::Starting("waiting for room on its GPU".into());
                        true
                    }
                    Load::Sleeping if !live.draining => {
                        live.load = Load::Starting("waking from sleep".into());
                        true
                    }
                    _ => false,
                }
            };
            if queue {
                self.announce();
                let fleet = Arc::clone(self);
                self.tasks.spawn_on(async move { fleet.load(i).await }, &self.runtime);
            }
            waited = true;
            tokio::select! {
                r = tokio::time::timeout_at(deadline, changed.changed()) => {
                    if r.is_err() {
                        let phase = self.lives()[i].load.word();
                        return Err(ApiError::new(ErrorKind::GatewayTimeout, format!(
                            "model `{}` is still not ready after {} s ({phase}); see `podctl status` and `podctl logs {}`",
                            member.served_name(), member.wait_limit().as_secs(), member.profile.name
                        )));
                    }
                }
                () = self.shutdown.cancelled() => {
                    return Err(ApiError::new(ErrorKind::Unavailable, "podctl serve is shutting down"));
                }
            }
        }
    }

    /// `--preload`: starts member `i` in the background (a task the fleet waits for on stop).
    pub fn preload(self: &Arc<Self>, i: usize) {
        let fleet = Arc::clone(self);
        self.tasks.spawn_on(async move { fleet.load(i).await }, &self.runtime);
    }

    /// Starts member `i` (queued by [`Self::acquire`] or `--preload`), after stopping the
    /// models in its way.
    pub async fn load(self: Arc<Self>, i: usize) {
        let _one_at_a_time = tokio::select! {
            g = self.switch.lock() => g,
            () = self.shutdown.cancelled() => return,
        };
        {
            let mut lives = self.lives();
            match lives[i].load {
                Load::Starting(_) if lives[i].run.is_none() || lives[i].asleep => {}
                Load::Stopped => lives[i].load = Load::Starting("waiting for room on its GPU".into()),
                _ => return,
            }
        }
        let slots = self.slots();
        match policy::make_room(&slots, i) {
            Err(e) => {
                let problem = self.members[i].no_room(&e);
                self.lives()[i].load = Load::Failed(problem);
                self.announce();
                return;
            }
            Ok(evict) => {
                if !evict.is_empty() {
                    self.metrics.swapped(self.members[i].served_name(), evict.len());
                }
                for j in evict {
                    tracing::info!(
                        "swapping out {} to make room for {}",
                        self.members[j].profile.name,
                        self.members[i].profile.name
                    );
                    self.unload_now(j).await;
                    if self.shutdown.is_cancelled() {
                        return;
                    }
                }
            }
        }
        let asleep = self.lives()[i].asleep;
        if asleep {
            self.wake(i).await;
        } else {
            self.spawn(i);
        }
    }

    /// Wakes member `i` from sleep; if vLLM cannot, it is stopped and started afresh.
    async fn wake(self: &Arc<Self>, i: usize) {
        let member = &self.members[i];
        let began = Instant::now();
        match member.wake().await {
            Ok(()) => {
                self.metrics.woke(member.served_name(), began.elapsed());
                let mut lives = self.lives();
                lives[i].asleep = false;
                lives[i].load = Load::Ready;
            }
            Err(why) => {
                tracing::warn!("{} did not wake up ({why}): starting it afresh", member.profile.name);
                let run = {
                    let mut lives = self.lives();
                    lives[i].asleep = false;
                    lives[i].run.take()
                };
                if let Some(run) = run {
                    run.stop.cancel();
                    let _ = run.task.await;
                }
                self.spawn(i);
            }
        }
        self.announce();
    }

    fn slots(&self) -> Vec<policy::Slot> {
        let lives = self.lives();
        self.members
            .iter()
            .zip(lives.iter())
            .map(|(m, l)| policy::Slot {
                gpus: m.gpus.clone(),
                memory: m.memory,
                // A failed run's processes are gone (the supervisor cleaned up before it said so).
                loaded: l.run.is_some() && !l.asleep && !matches!(l.load, Load::Failed(_)),
                last_used: l.last_used,
            })
            .collect()
    }

    /// Starts member `i`'s supervisor.
    fn spawn(self: &Arc<Self>, i: usize) {
        let member = &self.members[i];
        let run_id = crate::supervisor::new_run_id();
        let launch = match member.launch(&run_id) {
            Ok(l) => l,
            Err(problem) => {
                self.lives()[i].load = Load::Failed(problem);
                self.announce();
                return;
            }
        };
        let record = Instance::starting(
            &member.profile,
            &run_id,
            self.proxy.clone(),
            self.store.log_path(&member.profile.name),
            false,
        );
        let log = match RotatingLog::open(&record.log, logfile::MAX_BYTES, logfile::KEEP) {
            Ok(l) => l,
            Err(e) => {
                self.lives()[i].load = Load::Failed(member.unwritable(&record.log, &e));
                self.announce();
                return;
            }
        };
        let weak = Arc::downgrade(self);
        let notify = Box::new(move |r: &Instance| {
            if let Some(fleet) = weak.upgrade() {
                fleet.on_record(i, r);
            }
        });
        let supervisor = Supervisor::new(
            member.profile.clone(),
            launch,
            self.store.clone(),
            record,
            log,
            member.timeout,
            notify,
        );
        let stop = self.shutdown.child_token();
        let hurry = self.hurry.clone();
        let token = stop.clone();
        let task = AbortOnDropHandle::new(self.runtime.spawn(supervisor.run(token, hurry)));
        let mut lives = self.lives();
        lives[i].run = Some(Run { stop, task });
        lives[i].loading_since = Some(Instant::now());
        lives[i].load = Load::Starting("launching".into());
        drop(lives);
        self.announce();
    }

    /// What the supervisor of member `i` recorded.
    fn on_record(&self, i: usize, r: &Instance) {
        let load = match r.state {
            State::Starting => Load::Starting(super::member::phase_word(r)),
            State::Restarting => Load::Starting(format!("restarting (restart {})", r.restarts)),
            State::Ready => Load::Ready,
            State::Failed => Load::Failed(r.failure.clone().unwrap_or_else(|| self.members[i].gave_up())),
            State::Stopping | State::Stopped => Load::Stopping,
        };
        let name = self.members[i].served_name();
        {
            let mut lives = self.lives();
            match &load {
                Load::Ready => {
                    if let Some(t) = lives[i].loading_since.take() {
                        self.metrics.loaded(name, t.elapsed());
                    }
                }
                Load::Failed(_) if lives[i].loading_since.take().is_some() => self.metrics.load_failed(name),
                _ => {}
            }
            if !matches!(load, Load::Ready) {
                // A restart (after a crash while asleep) comes back awake.
                lives[i].asleep = false;
            } else if lives[i].asleep {
                // Still asleep: the record's `ready` is the supervisor's, not the GPU's.
                return;
            }
            lives[i].load = load;
        }
        self.announce();
    }

    /// Stops member `i` once the requests it has (and those queued before now) are done.
    pub async fn unload_now(&self, i: usize) {
        let mut changed = self.changed.subscribe();
        self.lives()[i].draining = true;
        self.announce();
        loop {
            changed.mark_unchanged();
            {
                let lives = self.lives();
                let l = &lives[i];
                // Requests queued for it before the swap are served first, if it can serve.
                let serving = l.run.is_some() && matches!(l.load, Load::Starting(_) | Load::Ready);
                if l.in_flight == 0 && (l.early == 0 || !serving) {
                    break;
                }
            }
            tokio::select! {
                _ = changed.changed() => {}
                () = self.shutdown.cancelled() => break,
            }
        }
        let member = &self.members[i];
        let can_sleep = {
            let lives = self.lives();
            member.profile.sleep && lives[i].run.is_some() && matches!(lives[i].load, Load::Ready)
        };
        if can_sleep && !self.shutdown.is_cancelled() {
            match member.sleep().await {
                Ok(()) => {
                    let mut lives = self.lives();
                    lives[i].asleep = true;
                    lives[i].load = Load::Sleeping;
                    lives[i].draining = false;
                    drop(lives);
                    self.announce();
                    return;
                }
                Err(why) => tracing::warn!("{} cannot sleep ({why}): stopping it", member.profile.name),
            }
        }
        let run = {
            let mut lives = self.lives();
            lives[i].load =
                if matches!(lives[i].load, Load::Failed(_)) { lives[i].load.clone() } else { Load::Stopping };
            lives[i].asleep = false;
            lives[i].run.take()
        };
        self.announce();
        if let Some(run) = run {
            run.stop.cancel();
            let _ = run.task.await;
        }
        {
            let mut lives = self.lives();
            if !matches!(lives[i].load, Load::Failed(_)) {
                lives[i].load = Load::Stopped;
            }
            lives[i].draining = false;
        }
        self.announce();
    }

    /// `podctl load`: starts member `i` now (again, after a failed start) and waits for it.
    pub async fn load_now(self: &Arc<Self>, i: usize) -> Result<(), ApiError> {
        {
            let _one_at_a_time = self.switch.lock().await;
            let failed = {
                let mut lives = self.lives();
                matches!(lives[i].load, Load::Failed(_)).then(|| lives[i].run.take())
            };
            if let Some(run) = failed {
                // The supervisor that gave up has finished, or is about to.
                if let Some(run) = run {
                    run.stop.cancel();
                    let _ = run.task.await;
                }
                self.lives()[i].load = Load::Stopped;
                self.announce();
            }
        }
        self.acquire(i).await.map(drop)
    }

    /// `podctl unload`: stops member `i` once its requests are done (a failed one is
    /// forgotten, so its next request starts it again).
    pub async fn unload(&self, i: usize) {
        let _one_at_a_time = self.switch.lock().await;
        if self.lives()[i].run.is_some() {
            self.unload_now(i).await;
        }
        let mut lives = self.lives();
        if lives[i].run.is_none() {
            lives[i].load = Load::Stopped;
        }
        drop(lives);
        self.announce();
    }

    /// Member `i`'s state in words (`starting: loading weights`).
    pub fn load_word(&self, i: usize) -> String {
        self.lives()[i].load.word()
    }

    /// Stops every model (requests in flight are the proxy's to end) and waits for it.
    pub async fn stop_all(&self) {
        self.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
        let runs: Vec<Run> = self.lives().iter_mut().filter_map(|l| l.run.take()).collect();
        for run in runs {
            run.stop.cancel();
            let _ = run.task.await;
        }
    }

    /// Each model's state, for `/v1/models`.
    pub fn model_states(&self) -> Vec<ModelState> {
        let lives = self.lives();
        self.members
            .iter()
            .zip(lives.iter())
            .map(|(m, l)| ModelState {
                name: m.served_name().to_owned(),
                state: l.load.name(),
                phase: match &l.load {
                    Load::Starting(p) => Some(p.clone()),
                    _ => None,
                },
                error: match &l.load {
                    Load::Failed(p) => Some(format!("{}; hint: {}", p.summary, p.hint)),
                    _ => None,
                },
            })
            .collect()
    }

    /// Member `i` is loaded and idle for its `idle_unload` limit: the models to unload now.
    pub fn idle(&self) -> Vec<usize> {
        let slots = self.slots();
        let (busy, limits): (Vec<u32>, Vec<Option<Duration>>) = {
            let lives = self.lives();
            lives.iter().zip(&self.members).map(|(l, m)| (l.in_flight + l.early, m.idle_unload)).unzip()
        };
        let ready: Vec<bool> = self.lives().iter().map(|l| matches!(l.load, Load::Ready)).collect();
        policy::idle(&slots, &busy, &limits, self.now()).into_iter().filter(|&i| ready[i]).collect()
    }

    /// Unloads idle models until shut down.
    pub async fn watch_idle(self: Arc<Self>) {
        let every = self.members.iter().filter_map(|m| m.idle_unload).min();
        let Some(every) = every else { return };
        let mut tick =
            tokio::time::interval((every / 4).clamp(Duration::from_millis(100), Duration::from_secs(5)));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = self.shutdown.cancelled() => return,
            }
            for i in self.idle() {
                let _g = self.switch.lock().await;
                if self.idle().contains(&i) {
                    tracing::info!(
                        "unloading {}: idle for {:?}",
                        self.members[i].profile.name,
                        self.members[i].idle_unload
                    );
                    self.unload_now(i).await;
                }
            }
        }
    }
}

/// A request admitted to a model: counted in flight until dropped.
struct Hold {
    fleet: Weak<Fleet>,
    i: usize,
}

impl Drop for Hold {
    fn drop(&mut self) {
        if let Some(fleet) = self.fleet.upgrade() {
            {
                let mut lives = fleet.lives();
                lives[self.i].in_flight = lives[self.i].in_flight.saturating_sub(1);
                lives[self.i].last_used = fleet.now();
            }
            fleet.announce();
        }
    }
}

/// A request waiting for a model; an early one holds off its swap-out.
struct Waiting {
    fleet: Weak<Fleet>,
    i: usize,
    early: bool,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.early
            && let Some(fleet) = self.fleet.upgrade()
        {
            {
                let mut lives = fleet.lives();
                lives[self.i].early = lives[self.i].early.saturating_sub(1);
            }
            fleet.announce();
        }
    }
}
