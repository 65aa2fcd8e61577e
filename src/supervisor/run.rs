//! The supervisor's loop: start vLLM, follow its output (log file, phases, KV cache
//! figures, failure lines), probe readiness, and on exit ask the [`RestartPolicy`] what to
//! do. Every change is written to the instance record, which is how `start`, `status` and
//! `stop` see it. The loop itself only wires events to the pure parts.

use std::collections::VecDeque;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use super::child::{self, Output, Running};
use super::logfile::RotatingLog;
use super::policy::{Decision, RestartPolicy, human};
use super::readiness::{Health, Probe};
use super::stop::{self, Target};
use crate::instance::{ExitRecord, Instance, Problem, ProcRef, State, Store, SupervisorKind, now};
use crate::profile::Profile;
use crate::vllm::argv::Launch;
use crate::vllm::failure::{self, Failure};
use crate::vllm::logline::{self, LogFact, Phase};

/// Lines kept for diagnosing an exit.
const RECENT: usize = 300;
const PROBE_EVERY: Duration = Duration::from_millis(250);

/// How the supervisor ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Asked to stop.
    Stopped,
    /// Gave up; the record's `failure` says why.
    Failed,
}

/// One supervised profile.
pub struct Supervisor {
    pub instance: Instance,
    profile: Profile,
    launch: Launch,
    store: Store,
    log: RotatingLog,
    policy: RestartPolicy,
    probe: Probe,
    timeout: Duration,
    began: Instant,
    notify: Box<dyn FnMut(&Instance) + Send>,
    last_saved: Instant,
    dirty: bool,
    /// The Hugging Face hub cache vLLM downloads into.
    hub: std::path::PathBuf,
    hurry: CancellationToken,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor").field("profile", &self.profile.name).finish_non_exhaustive()
    }
}

/// Why one attempt ended.
enum AttemptEnd {
    Exited { status: std::process::ExitStatus, uptime: Duration, recent: VecDeque<String>, was_ready: bool },
    Stopped,
    TimedOut,
}

impl Supervisor {
    /// `instance` is the initial record (state `starting`); `notify` sees every change.
    pub fn new(
        profile: Profile,
        launch: Launch,
        store: Store,
        instance: Instance,
        log: RotatingLog,
        timeout: Duration,
        notify: Box<dyn FnMut(&Instance) + Send>,
    ) -> Self {
        let key = launch.env.iter().find(|(k, _)| k == "VLLM_API_KEY").map(|(_, v)| v.clone());
        let probe = Probe::new(&profile.host, profile.port, &profile.served_model_name, key);
        let hub = super::download::hub_dir(&|k| {
            launch
                .env
                .iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .or_else(|| std::env::var(k).ok())
        });
        Self {
            policy: RestartPolicy::new(profile.restart),
            probe,
            profile,
            launch,
            store,
            instance,
            log,
            timeout,
            began: Instant::now(),
            notify,
            last_saved: Instant::now(),
            dirty: true,
            hub,
            hurry: CancellationToken::new(),
        }
    }

    /// Writes the record (always when `force`, else at most every 200 ms); `false` when it
    /// could not be written.
    fn save(&mut self, force: bool) -> bool {
        if !force && self.last_saved.elapsed() < Duration::from_millis(200) {
            self.dirty = true;
            return true;
        }
        let written = match self.store.save(&self.instance) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(
                    "cannot write the instance record in {}: {e}",
                    self.store.dir(&self.instance.profile).display()
                );
                false
            }
        };
        (self.notify)(&self.instance);
        self.last_saved = Instant::now();
        self.dirty = false;
        written
    }

    /// Runs until stopped or given up. A second cancellation of `hurry` (a second Ctrl-C)
    /// cuts the stop recipe's grace periods short.
    pub async fn run(mut self, shutdown: CancellationToken, hurry: CancellationToken) -> Outcome {
        self.hurry = hurry;
        // Without a record nothing could find or stop what we start: refuse to start blind.
        if !self.save(true) {
            tracing::error!("not starting vLLM: its state could not be recorded");
            return Outcome::Failed;
        }
        let mut ever_ready = false;
        loop {
            let running = match child::spawn(&self.launch) {
                Ok(r) => r,
                Err(e) => {
                    let program = self.launch.program.display().to_string();
                    self.fail(Problem {
                        kind: SupervisorKind::SpawnFailed.into(),
                        summary: format!("cannot run `{program}`: {e}"),
                        hint: "install vLLM (`podctl setup`, or `pip install vllm`), or point PODCTL_VLLM_BIN / the profile's vllm_bin at it".into(),
                        line: None,
                    });
                    return Outcome::Failed;
                }
            };
            let attempt = self.instance.restarts + 1;
            self.log.note(&format!("start {attempt}: pid {} run {}", running.pid, self.instance.run_id));
            self.instance.vllm =
                ProcRef::of(running.pid).or(Some(ProcRef { pid: running.pid, start_ticks: 0 }));
            self.instance.attempt_started_at = now();
            self.instance.phase = Phase::Launching;
            self.instance.progress = None;
            self.instance.ready_at = None;
            self.instance.set_state(State::Starting);
            self.save(true);

            let pgid = running.pid;
            // Until the first ready, `timeout` bounds the whole start (restarts included);
            // after it, each restart gets `timeout` of its own.
            let deadline = if ever_ready {
                tokio::time::Instant::now() + self.timeout
            } else {
                tokio::time::Instant::from_std(self.began) + self.timeout
            };
            match self.attempt(running, &shutdown, deadline).await {
                AttemptEnd::Stopped => {
                    self.log.note("stopped");
                    self.instance.vllm = None;
                    self.instance.set_state(State::Stopped);
                    self.save(true);
                    return Outcome::Stopped;
                }
                AttemptEnd::TimedOut => {
                    self.instance.vllm = None;
                    let limit = human(self.timeout);
                    self.fail(Problem {
                        kind: SupervisorKind::StartupTimeout.into(),
                        summary: format!("vLLM was not ready after {limit} (last phase: {})", self.instance.phase.label()),
                        hint: format!(
                            "see `podctl logs {}`; a first download can take long: raise `startup_timeout` in the profile or pass --timeout",
                            self.profile.name
                        ),
                        line: None,
                    });
                    return Outcome::Failed;
                }
                AttemptEnd::Exited { status, uptime, recent, was_ready } => {
                    ever_ready |= was_ready;
                    // Whatever the API server left behind (EngineCore, workers) holds the GPU.
                    let target = Target {
                        leader: None,
                        pgid: Some(pgid),
                        run_id: self.instance.run_id.clone(),
                        grace: Duration::ZERO,
                        port: None,
                        hurry: None,
                    };
                    let leftovers = stop::stop(&target).await;
                    if leftovers.group_leftovers + leftovers.swept.len() > 0 {
                        self.log.note(&format!(
                            "cleaned up {} leftover process(es) of the exited vLLM",
                            leftovers.group_leftovers + leftovers.swept.len()
                        ));
                    }
                    let diagnosis = failure::diagnose(recent.iter().map(String::as_str));
                    let reason = exit_reason(status, diagnosis.as_ref());
                    self.log.note(&format!("vLLM exited after {}: {reason}", human(uptime)));
                    self.instance.vllm = None;
                    self.instance.record_exit(ExitRecord {
                        at: now(),
                        code: status.code(),
                        signal: status.signal(),
                        uptime_secs: uptime.as_secs(),
                        reason: reason.clone(),
                        failure: diagnosis.clone(),
                    });
                    match self.policy.on_exit(self.began.elapsed(), uptime, was_ready, diagnosis.as_ref()) {
                        Decision::Fatal(f) => {
                            self.fail(Problem::from(&f));
                            return Outcome::Failed;
                        }
                        Decision::GiveUp { reason: why } => {
                            let (hint, line) = match &diagnosis {
                                Some(f) => (f.hint.clone(), Some(f.line.clone())),
                                None => (
                                    format!(
                                        "see `podctl logs {}` for what vLLM printed before exiting",
                                        self.profile.name
                                    ),
                                    None,
                                ),
                            };
                            self.fail(Problem {
                                kind: SupervisorKind::CrashLoop.into(),
                                summary: format!("{why}; last: {reason}"),
                                hint,
                                line,
                            });
                            return Outcome::Failed;
                        }
                        Decision::Restart { delay } => {
                            self.instance.restarts += 1;
                            self.instance.set_state(State::Restarting);
                            self.save(true);
                            self.log.note(&format!("restarting in {}", human(delay)));
                            tokio::select! {
                                () = tokio::time::sleep(delay) => {}
                                () = shutdown.cancelled() => {
                                    self.instance.set_state(State::Stopped);
                                    self.save(true);
                                    return Outcome::Stopped;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    fn fail(&mut self, problem: Problem) {
        self.log.note(&format!("failed: {} ({})", problem.summary, problem.hint));
        tracing::error!("{}: {}", self.profile.name, problem.summary);
        self.instance.failure = Some(problem);
        self.instance.set_state(State::Failed);
        self.save(true);
    }

    async fn attempt(
        &mut self,
        mut running: Running,
        shutdown: &CancellationToken,
        deadline: tokio::time::Instant,
    ) -> AttemptEnd {
        let started = Instant::now();
        let mut recent: VecDeque<String> = VecDeque::with_capacity(RECENT);
        let mut tick = tokio::time::interval(PROBE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Probes run on their own task so a slow answer never holds up output or a stop.
        let (health_tx, mut health) = tokio::sync::mpsc::channel::<Health>(1);
        let probe = self.probe.clone();
        let probing = tokio::spawn(async move {
            let mut every = tokio::time::interval(PROBE_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                if health_tx.send(probe.check().await).await.is_err() {
                    return;
                }
            }
        });
        // Whichever way this attempt ends, the probing ends with it.
        let _stop_probing = AbortOnDropHandle::new(probing);
        let mut ready = false;
        let mut last_redraw = Instant::now();
        let headless = self.profile.parallel.nodes.as_ref().is_some_and(|n| n.headless);
        let mut output_open = true;
        let status = loop {
            tokio::select! {
                out = running.output.recv(), if output_open => match out {
                    Some(out) => self.on_output(&out, &mut recent, &mut last_redraw),
                    None => output_open = false,
                },
                status = running.child.wait() => break status,
                _ = tick.tick(), if !ready => {
                    self.watch_download();
                    if self.dirty {
                        self.save(false);
                    }
                    if headless && self.instance.phase >= Phase::Loading {
                        self.became_ready(started);
                        ready = true;
                    }
                }
                Some(h) = health.recv(), if !ready && !headless => {
                    if h == Health::Ready {
                        self.became_ready(started);
                        ready = true;
                    }
                }
                () = tokio::time::sleep_until(deadline), if !ready => {
                    self.stop_child(&mut running).await;
                    return AttemptEnd::TimedOut;
                }
                () = shutdown.cancelled() => {
                    self.instance.set_state(State::Stopping);
                    self.save(true);
                    self.stop_child(&mut running).await;
                    return AttemptEnd::Stopped;
                }
            }
        };
        let uptime = started.elapsed();
        // The last words may still be in the pipes; grandchildren can hold them open, so
        // wait briefly rather than for the end of the stream.
        let drain_until = tokio::time::Instant::now() + Duration::from_millis(300);
        if output_open {
            while let Ok(Some(out)) = tokio::time::timeout_at(drain_until, running.output.recv()).await {
                self.on_output(&out, &mut recent, &mut last_redraw);
            }
        }
        match status {
            Ok(status) => AttemptEnd::Exited { status, uptime, recent, was_ready: ready },
            Err(e) => {
                tracing::error!("lost track of vLLM: {e}");
                let status = std::process::ExitStatus::from_raw(1 << 8);
                AttemptEnd::Exited { status, uptime, recent, was_ready: ready }
            }
        }
    }

    fn became_ready(&mut self, started: Instant) {
        self.instance.phase = Phase::Ready;
        self.instance.progress = None;
        self.instance.ready_at = Some(now());
        self.instance.set_state(State::Ready);
        self.log.note(&format!("ready after {:.1} s", started.elapsed().as_secs_f64()));
        self.save(true);
    }

    async fn stop_child(&mut self, running: &mut Running) {
        let target = Target {
            leader: self.instance.vllm,
            pgid: Some(running.pid),
            run_id: self.instance.run_id.clone(),
            grace: Duration::from_secs(self.profile.shutdown_timeout.unwrap_or(0) + 10),
            port: Some(self.profile.port),
            hurry: Some(self.hurry.clone()),
        };
        // Reap the leader as soon as it exits, so the recipe does not wait on a zombie.
        let report = {
            let stop = stop::stop(&target);
            tokio::pin!(stop);
            let mut reaped = false;
            loop {
                tokio::select! {
                    report = &mut stop => break report,
                    _ = running.child.wait(), if !reaped => reaped = true,
                }
            }
        };
        let _ = running.child.wait().await;
        self.log.note(&format!(
            "stopped vLLM in {:.1} s{}{}",
            report.took.as_secs_f64(),
            if report.killed > 0 {
                format!("; {} process(es) needed SIGKILL", report.killed)
            } else {
                String::new()
            },
            if report.swept.is_empty() { String::new() } else { format!("; swept {:?}", report.swept) },
        ));
        self.instance.vllm = None;
    }

    /// Between `Starting to load model` and the first shard, vLLM may be downloading.
    fn watch_download(&mut self) {
        let inst = &mut self.instance;
        let waiting = matches!(inst.phase, Phase::Starting | Phase::Downloading)
            || (inst.phase == Phase::Loading && inst.progress.is_none());
        if !waiting {
            return;
        }
        match super::download::in_progress(&self.hub, &self.profile.model) {
            Some(d) => {
                inst.phase = Phase::Downloading;
                inst.progress = Some(format!("{} so far", super::download::size(d.bytes)));
                self.dirty = true;
            }
            None if inst.phase == Phase::Downloading => {
                inst.phase = Phase::Loading;
                inst.progress = None;
                self.dirty = true;
            }
            None => {}
        }
    }

    fn on_output(&mut self, out: &Output, recent: &mut VecDeque<String>, last_redraw: &mut Instant) {
        let text = out.segment.text.as_str();
        if out.segment.committed {
            self.log.line(text);
        } else if last_redraw.elapsed() >= Duration::from_secs(2) {
            self.log.line(text);
            *last_redraw = Instant::now();
        }
        if out.segment.committed || recent.back().is_none_or(|l| !same_bar(l, text)) {
            if recent.len() == RECENT {
                recent.pop_front();
            }
            recent.push_back(text.to_owned());
        }
        for fact in logline::classify(text) {
            self.apply(fact);
        }
    }

    fn apply(&mut self, fact: LogFact) {
        let inst = &mut self.instance;
        let advance = |inst: &mut Instance, phase: Phase| {
            if phase > inst.phase && inst.phase != Phase::Ready {
                inst.phase = phase;
                inst.progress = None;
            }
        };
        match fact {
            LogFact::Phase(p) if p < Phase::Ready => advance(inst, p),
            LogFact::Shards { done, total } => {
                advance(inst, Phase::Loading);
                if inst.phase == Phase::Loading {
                    inst.progress = Some(format!("{done}/{total} shards"));
                }
            }
            LogFact::GraphsPct(pct) => {
                advance(inst, Phase::CudaGraphs);
                if inst.phase == Phase::CudaGraphs {
                    inst.progress = Some(format!("{pct}%"));
                }
            }
            LogFact::KvMemoryGib(g) => inst.kv_cache.memory_gib = Some(g),
            LogFact::KvCache { tokens, context, concurrency } => {
                inst.kv_cache.tokens = Some(tokens);
                inst.kv_cache.context = context.or(inst.kv_cache.context);
                inst.kv_cache.max_concurrency = concurrency.or(inst.kv_cache.max_concurrency);
            }
            LogFact::Concurrency { context, concurrency } => {
                inst.kv_cache.context = Some(context);
                inst.kv_cache.max_concurrency = Some(concurrency);
            }
            // Ready is the probe's word, not the log's: the server's own "started" line
            // leaves the phase where it was (an eager or CPU vLLM captures no CUDA graphs).
            LogFact::Phase(_) | LogFact::Stats { .. } | LogFact::ModelLoaded { .. } => return,
            LogFact::Failure(f) => {
                tracing::debug!("recognised in vLLM's log: {}", f.summary);
                return;
            }
        }
        self.dirty = true;
    }
}

/// Two redraws of one progress bar (same text before the first digit).
fn same_bar(a: &str, b: &str) -> bool {
    let stem = |s: &str| s.split(|c: char| c.is_ascii_digit()).next().unwrap_or("").to_owned();
    stem(a) == stem(b)
}

fn exit_reason(status: std::process::ExitStatus, diagnosis: Option<&Failure>) -> String {
    let how = match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit code {c}"),
        (None, Some(s)) => {
            let name = nix::sys::signal::Signal::try_from(s)
                .map_or_else(|_| format!("signal {s}"), |sig| sig.as_str().to_owned());
            format!("killed by {name}")
        }
        _ => "exited".to_owned(),
    };
    match diagnosis {
        Some(f) => format!("{how}: {}", f.summary),
        None => how,
    }
}
