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
    // It never stays up long enough to be ready: start waits through the restarts and
    // reports the crash loop.
    let out = sb.run(&["start", "tiny"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("exited 3 times"), "{}", text(&out));
    let inst = sb.wait_for("failed", Duration::from_secs(30), |i| i["state"] == "failed");
    assert_eq!(inst["failure"]["kind"], "crash_loop", "{inst:#}");
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
        ("gated", "model_gated", "HF_TOKEN"),
        ("tp", "tp_too_large", "tensor_parallel_size"),
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
