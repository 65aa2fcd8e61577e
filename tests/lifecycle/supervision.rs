//! Supervision with real processes: crash → restart with backoff, crash loop → failed with
//! the diagnosis, fatal log lines → no restart and the right hint, start-up timeout, a
//! vLLM that ignores SIGTERM and leaves grandchildren, a SIGKILLed supervisor.

use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::harness::{Sandbox, port_free, run_processes, text};

#[test]
fn a_crash_is_restarted_and_recorded() {
    let sb =
        Sandbox::new("crash", "", &[("FAKE_VLLM_CRASH_AFTER_MS", "300"), ("FAKE_VLLM_CRASH_TIMES", "1")]);
    let out = sb.run(&["start", "tiny"]);
    assert!(out.status.success(), "{}", text(&out));
    let inst = sb.wait_for("a restart back to ready", Duration::from_secs(30), |i| {
        i["restarts"] == 1 && i["state"] == "ready"
    });
    let exit = &inst["last_exit"];
    assert_eq!(exit["code"], 1, "{inst:#}");
    assert!(exit["reason"].as_str().is_some_and(|r| r.contains("exit code 1")), "{exit:#}");
    assert!(sb.log().contains("restarting in 1 s"), "{}", sb.log());
    let run_id = sb.run_id();
    assert!(sb.run(&["stop"]).status.success());
    assert!(run_processes(&run_id).is_empty());
}

#[test]
fn a_crash_loop_gives_up_with_the_diagnosis() {
    let sb = Sandbox::new(
        "loop",
        "[restart]\nmax_restarts = 2\nbackoff_max_secs = 1\n",
        &[("FAKE_VLLM_CRASH_AFTER_MS", "100")],
    );
    // Each run is ready for 100 ms: `start` usually misses that and waits through the
    // restarts to report the crash loop; when it catches one, it says ready and the
    // supervisor gives up afterwards all the same.
    let out = sb.run(&["start", "tiny"]);
    match out.status.code() {
        Some(1) => assert!(text(&out).contains("exited 3 times"), "{}", text(&out)),
        Some(0) => assert!(text(&out).contains("ready in"), "{}", text(&out)),
        _ => panic!("start: {}", text(&out)),
    }
    let inst = sb.wait_for("failed", Duration::from_secs(30), |i| i["state"] == "failed");
    assert_eq!(inst["failure"]["kind"], "crash_loop", "{inst:#}");
    let summary = inst["failure"]["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("exited 3 times"), "{inst:#}");
    assert_eq!(inst["restarts"], 2);
    let (code, _) = sb.status();
    assert_eq!(code, Some(1));
    let table = text(&sb.run(&["status"]));
    assert!(table.contains("failed") && table.contains("why") && table.contains("fix"), "{table}");
}

/// Each fatal cause: no restart, the kind recorded, the hint naming the fix.
#[test]
fn fatal_causes_are_not_restarted_and_explained() {
    for (kind, recorded, fix) in [
        ("gpu_memory", "gpu_memory_held", "gpu_memory_utilization"),
        ("context", "context_too_long", "max_model_len"),
        ("oom", "model_too_large", "GPU"),
        ("port", "port_in_use", "podctl stop"),
        ("missing_model", "model_missing", "model"),
        ("gated", "model_gated", "HF_TOKEN"),
        ("disk", "disk_full", "space"),
        ("tp", "tp_too_large", "tensor_parallel_size"),
        ("fp8", "fp8_block_n", "enable_expert_parallel"),
        ("nccl", "nccl_shm", "/dev/shm"),
        ("no_gpu", "no_gpu", "GPU"),
    ] {
        let sb = Sandbox::new(&format!("fatal-{kind}"), "", &[("FAKE_VLLM_FAIL", kind)]);
        let out = sb.run(&["start", "tiny"]);
        let said = text(&out);
        assert_eq!(out.status.code(), Some(1), "{kind}: {said}");
        assert!(said.contains(fix), "{kind}: hint names `{fix}`: {said}");
        assert!(said.contains("vLLM said:"), "{said}");
        let inst = sb.instance();
        assert_eq!(inst["state"], "failed");
        assert_eq!(inst["failure"]["kind"], recorded, "{inst:#}");
        assert_eq!(inst["restarts"], 0, "{kind} must not be restarted");
        assert!(port_free(sb.vllm_port));
    }
}

#[test]
fn startup_timeout_fails_and_leaves_nothing() {
    let sb = Sandbox::new("timeout", "", &[("FAKE_VLLM_STARTUP_MS", "20000")]);
    let out = sb.run(&["start", "tiny", "--timeout", "1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("not ready after 1 s") && text(&out).contains("startup_timeout"),
        "{}",
        text(&out)
    );
    assert!(run_processes(&sb.run_id()).is_empty());
}

#[test]
fn stop_kills_what_ignores_sigterm_including_grandchildren() {
    let sb = Sandbox::new("stubborn", "", &[("FAKE_VLLM_IGNORE_TERM", "1"), ("FAKE_VLLM_GRANDCHILD", "1")]);
    let out = sb.run(&["start", "tiny", "--proxy"]);
    assert!(out.status.success(), "{}", text(&out));
    let run_id = sb.run_id();
    let before = run_processes(&run_id);
    assert!(before.len() >= 3, "vLLM, engine and worker: {before:?}");
    assert!(before.iter().any(podctl::procs::Process::is_vllm_title), "{before:?}");
    let out = sb.run(&["stop", "tiny"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(run_processes(&run_id).is_empty(), "survivors: {:?}", run_processes(&run_id));
    assert!(port_free(sb.vllm_port) && port_free(sb.proxy_port));
}

#[test]
fn a_sigkilled_supervisor_leaves_a_lost_instance_that_stop_cleans() {
    let sb = Sandbox::new("orphan", "", &[("FAKE_VLLM_GRANDCHILD", "1")]);
    assert!(sb.run(&["start", "tiny"]).status.success());
    let run_id = sb.run_id();
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.dir.join("state/tiny/instance.json")).expect("record"))
            .expect("json");
    let supervisor = i32::try_from(record["supervisor"]["pid"].as_i64().expect("pid")).expect("pid");
    kill(Pid::from_raw(supervisor), Signal::SIGKILL).expect("kill");
    std::thread::sleep(Duration::from_millis(300));
    assert!(!run_processes(&run_id).is_empty(), "vLLM outlives its supervisor");
    let (code, json) = sb.status();
    assert_eq!(code, Some(1));
    assert_eq!(json["instances"][0]["state"], "lost", "{json:#}");
    let out = sb.run(&["stop"]);
    assert!(out.status.success() && text(&out).contains("supervisor was gone"), "{}", text(&out));
    assert!(run_processes(&run_id).is_empty(), "survivors: {:?}", run_processes(&run_id));
    assert!(port_free(sb.vllm_port));
    // A new start after a lost run works.
    let again = sb.run(&["start", "tiny"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(sb.run(&["stop"]).status.success());
}

#[test]
fn logs_follow_across_a_restart() {
    use std::io::Read;
    let sb =
        Sandbox::new("follow", "", &[("FAKE_VLLM_CRASH_AFTER_MS", "800"), ("FAKE_VLLM_CRASH_TIMES", "1")]);
    assert!(sb.run(&["start", "tiny"]).status.success());
    let mut follower = sb
        .command(&["logs", "tiny", "-f", "-n", "0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("logs -f");
    sb.wait_for("the restart", Duration::from_secs(30), |i| i["restarts"] == 1 && i["state"] == "ready");
    std::thread::sleep(Duration::from_millis(500));
    let _ = follower.kill();
    let _ = follower.wait();
    let mut seen = String::new();
    follower.stdout.take().expect("stdout").read_to_string(&mut seen).expect("read");
    assert!(seen.contains("died unexpectedly"), "the crash: {seen}");
    assert!(seen.contains("podctl: start 2") && seen.contains("Application startup complete"), "{seen}");
    assert!(sb.run(&["stop"]).status.success());
}

#[test]
fn starts_that_fail_before_ready_give_up_after_three() {
    let sb =
        Sandbox::new("neverready", "[restart]\nbackoff_max_secs = 1\n", &[("FAKE_VLLM_FAIL", "generic")]);
    let out = sb.run(&["start", "tiny"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("failed to start 3 times in a row"), "{}", text(&out));
    let inst = sb.instance();
    assert_eq!(
        (inst["failure"]["kind"].as_str(), inst["restarts"].as_u64()),
        (Some("crash_loop"), Some(2)),
        "{inst:#}"
    );
    assert!(run_processes(&sb.run_id()).is_empty());
}

#[test]
fn two_starts_at_once_run_one_instance() {
    let sb = Sandbox::new("race", "", &[("FAKE_VLLM_STARTUP_MS", "800")]);
    let a = sb.command(&["start", "tiny"]).stderr(std::process::Stdio::piped()).spawn().expect("a");
    let b = sb.command(&["start", "tiny"]).stderr(std::process::Stdio::piped()).spawn().expect("b");
    let (a, b) = (a.wait_with_output().expect("a"), b.wait_with_output().expect("b"));
    let codes = [a.status.code(), b.status.code()];
    assert!(
        codes.contains(&Some(0)) && codes.contains(&Some(1)),
        "one wins: {codes:?} {} / {}",
        text(&a),
        text(&b)
    );
    let loser = if a.status.success() { &b } else { &a };
    let said = text(loser);
    assert!(said.contains("already running") || said.contains("another `podctl start tiny`"), "{said}");
    let supervisors = podctl::procs::all()
        .into_iter()
        .filter(|p| p.cmdline.contains("__supervise") && p.cmdline.contains(&sb.dir.display().to_string()))
        .count();
    assert_eq!(supervisors, 1);
    assert!(sb.run(&["stop"]).status.success());
}

#[test]
fn a_stop_right_after_start_leaves_nothing() {
    let sb = Sandbox::new("quickstop", "", &[("FAKE_VLLM_STARTUP_MS", "1500")]);
    let start = sb.command(&["start", "tiny"]).stderr(std::process::Stdio::piped()).spawn().expect("start");
    std::thread::sleep(Duration::from_millis(30));
    let stop = sb.run(&["stop", "tiny"]);
    assert!(stop.status.success(), "{}", text(&stop));
    let start = start.wait_with_output().expect("start ends");
    assert_eq!(start.status.code(), Some(1), "stopped before ready: {}", text(&start));
    std::thread::sleep(Duration::from_millis(300));
    assert!(run_processes(&sb.run_id()).is_empty(), "{:?}", run_processes(&sb.run_id()));
    assert!(port_free(sb.vllm_port));
    assert_eq!(sb.instance()["state"], "stopped");
}

#[test]
fn an_unwritable_state_dir_fails_clearly_and_starts_nothing() {
    let sb = Sandbox::new("unwritable", "", &[]);
    std::fs::create_dir_all(sb.dir.join("state/tiny/instance.json")).expect("a folder where the record goes");
    let out = sb.run(&["start", "tiny"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("cannot write podctl's state"), "{}", text(&out));
    std::thread::sleep(Duration::from_millis(500));
    let left: Vec<_> = podctl::procs::all()
        .into_iter()
        .filter(|p| !p.is_zombie() && p.cmdline.contains(&sb.dir.display().to_string()))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(port_free(sb.vllm_port));
}

#[test]
fn stop_never_touches_a_process_that_reused_a_recorded_pid() {
    let sb = Sandbox::new("reuse", "", &[]);
    // An unrelated process group leader, recorded as if it were our vLLM (pid reused).
    let mut stranger = std::process::Command::new("setsid").args(["sleep", "30"]).spawn().expect("sleep");
    std::thread::sleep(Duration::from_millis(100));
    let pid = i32::try_from(stranger.id()).expect("pid");
    let record = serde_json::json!({
        "schema": 1, "profile": "tiny", "model": "m", "served_model_name": "tiny", "run_id": "gone-run",
        "state": "ready", "phase": "ready", "progress": null, "supervisor": {"pid": 999_999, "start_ticks": 1},
        "vllm": {"pid": pid, "start_ticks": 1}, "host": "127.0.0.1", "port": sb.vllm_port, "proxy": null,
        "started_at": 0, "state_since": 0, "attempt_started_at": 0, "ready_at": 0, "restarts": 0, "exits": [],
        "failure": null, "kv_cache": {"memory_gib": null, "tokens": null, "context": null, "max_concurrency": null},
        "log": "/nonexistent", "foreground": false
    });
    std::fs::create_dir_all(sb.dir.join("state/tiny")).expect("dir");
    std::fs::write(sb.dir.join("state/tiny/instance.json"), record.to_string()).expect("record");
    let out = sb.run(&["stop"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stranger.try_wait().expect("wait").is_none(), "the stranger must survive");
    let _ = stranger.kill();
    let _ = stranger.wait();
}

#[test]
fn foreground_stops_on_sigterm_too() {
    let sb = Sandbox::new("fgterm", "", &[("FAKE_VLLM_GRANDCHILD", "1")]);
    let mut child = sb
        .command(&["start", "tiny", "--foreground"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    sb.wait_for("ready", Duration::from_secs(30), |i| i["state"] == "ready");
    let run_id = sb.run_id();
    kill(Pid::from_raw(i32::try_from(child.id()).expect("pid")), Signal::SIGTERM).expect("signal");
    assert!(child.wait().expect("exits").success());
    assert!(run_processes(&run_id).is_empty());
}
