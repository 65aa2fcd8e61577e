//! GPUs through `nvidia-smi`, the fallback when NVML cannot be loaded: runs the CSV query with
//! a time limit and parses its output (a pure function, tested on fixtures).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::device::{Gpu, GpuBackend};

/// The query: the field order [`parse_smi_csv`] expects.
const QUERY: &str =
    "--query-gpu=index,name,uuid,memory.total,memory.used,utilization.gpu,temperature.gpu,driver_version";
/// Fields per line in the query above.
const FIELDS: usize = 8;
/// How long nvidia-smi may take (it can hang on a wedged driver).
const TIMEOUT: Duration = Duration::from_secs(2);

/// Runs the nvidia-smi query: its CSV output (for [`parse_smi_csv`]), or why not.
pub(super) fn query() -> Result<String, String> {
    run(Command::new("nvidia-smi").args([QUERY, "--format=csv,noheader,nounits"]), TIMEOUT)
}

/// `nvidia-smi` on PATH as a [`super::GpuBackend`].
#[derive(Debug, Clone, Copy)]
pub(super) struct NvidiaSmi;

impl GpuBackend for NvidiaSmi {
    fn query(&self) -> Result<(Vec<Gpu>, Option<String>), String> {
        query().and_then(|csv| parse_smi_csv(&csv))
    }
}

/// Runs `command` and returns its stdout, or an error text on spawn failure, timeout (the
/// process is killed) or a non-zero exit (with the first line of its output).
fn run(command: &mut Command, timeout: Duration) -> Result<String, String> {
    let mut child =
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "not found on PATH".to_owned()
            } else {
                e.to_string()
            }
        })?;
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {timeout:?}"));
            }
            Err(e) => return Err(e.to_string()),
        }
    };
    let collect = |reader: Option<std::thread::JoinHandle<String>>| {
        reader.and_then(|handle| handle.join().ok()).unwrap_or_default()
    };
    let (stdout, stderr) = (collect(stdout), collect(stderr));
    if status.success() {
        return Ok(stdout);
    }
    let first_line = [stderr.as_str(), stdout.as_str()]
        .iter()
        .find_map(|text| text.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("no output")
        .to_owned();
    Err(format!("{status}: {first_line}"))
}

/// Reads a pipe to its end on a thread, so a full stderr pipe cannot block the child.
fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Pure: parse that nvidia-smi CSV output (fields may be `[N/A]` or `[Not Supported]` → None; trim spaces).
///
/// Returns the GPUs and the driver version (from the first line). A memory field that is
/// not available reads as 0; the index must be a number; any other unparsable value, or a
/// line with too few fields, is an error naming the line.
pub(crate) fn parse_smi_csv(text: &str) -> Result<(Vec<Gpu>, Option<String>), String> {
    let mut gpus = Vec::new();
    let mut driver_version = None;
    for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() < FIELDS {
            return Err(format!("line {number}: expected {FIELDS} fields, got {}: {line}", fields.len()));
        }
        // A name with commas in it would split: the name is everything between the index and
        // the last six fields.
        let tail = &fields[fields.len() - (FIELDS - 2)..];
        let name = fields[1..fields.len() - (FIELDS - 2)].join(",");
        let bad =
            |what: &str, value: &str| format!("line {number}: {what} `{value}` is not a number: {line}");
        let index = fields[0].parse().map_err(|_| bad("index", fields[0]))?;
        let memory = |value: &str, what: &str| -> Result<u64, String> {
            if unavailable(value) { Ok(0) } else { value.parse().map_err(|_| bad(what, value)) }
        };
        let optional = |value: &str, what: &str| -> Result<Option<u32>, String> {
            if unavailable(value) { Ok(None) } else { value.parse().map(Some).map_err(|_| bad(what, value)) }
        };
        gpus.push(Gpu {
            index,
            name,
            uuid: (!unavailable(tail[0])).then(|| tail[0].to_owned()),
            memory_total_mib: memory(tail[1], "memory.total")?,
            memory_used_mib: memory(tail[2], "memory.used")?,
            utilization_pct: optional(tail[3], "utilization.gpu")?,
            temperature_c: optional(tail[4], "temperature.gpu")?,
        });
        if driver_version.is_none() && !unavailable(tail[5]) {
            driver_version = Some(tail[5].to_owned());
        }
    }
    Ok((gpus, driver_version))
}

/// `[N/A]`, `[Not Supported]`, `[Unknown Error]` and the like, or an empty field.
fn unavailable(value: &str) -> bool {
    value.is_empty() || value == "N/A" || (value.starts_with('[') && value.ends_with(']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_two_gpus() {
        let text = "0, NVIDIA H100 80GB HBM3, GPU-1a2b, 81559, 1234, 7, 34, 570.124.06\n\
                    1, NVIDIA H100 80GB HBM3, GPU-3c4d, 81559, 75000, 100, 61, 570.124.06\n";
        let (gpus, driver) = parse_smi_csv(text).expect("parses");
        assert_eq!(driver.as_deref(), Some("570.124.06"));
        assert_eq!(gpus.len(), 2);
        assert_eq!(
            gpus[0],
            Gpu {
                index: 0,
                name: "NVIDIA H100 80GB HBM3".into(),
                uuid: Some("GPU-1a2b".into()),
                memory_total_mib: 81559,
                memory_used_mib: 1234,
                utilization_pct: Some(7),
                temperature_c: Some(34),
            }
        );
        assert_eq!(gpus[1].index, 1);
        assert_eq!(gpus[1].memory_used_mib, 75000);
        assert_eq!(gpus[1].memory_free_mib(), 6559);
    }

    #[test]
    fn unavailable_fields_are_none() {
        let text = "0, NVIDIA GH200 480GB, [N/A], [N/A], [N/A], [Not Supported], [N/A], 570.86.15";
        let (gpus, driver) = parse_smi_csv(text).expect("parses");
        assert_eq!(driver.as_deref(), Some("570.86.15"));
        let gpu = &gpus[0];
        assert_eq!(gpu.uuid, None);
        assert_eq!((gpu.memory_total_mib, gpu.memory_used_mib), (0, 0));
        assert_eq!(gpu.utilization_pct, None);
        assert_eq!(gpu.temperature_c, None);
    }

    #[test]
    fn a_name_with_a_comma_stays_whole() {
        let (gpus, _) = parse_smi_csv("3, Odd, Name, GPU-x, 100, 10, 0, 30, 1.0").expect("parses");
        assert_eq!(gpus[0].name, "Odd,Name");
        assert_eq!(gpus[0].index, 3);
        assert_eq!(gpus[0].memory_total_mib, 100);
    }

    #[test]
    fn empty_output_is_no_gpus() {
        assert_eq!(parse_smi_csv("\n\n"), Ok((Vec::new(), None)));
    }

    #[test]
    fn garbage_is_an_error() {
        let good = "0, NVIDIA H100, GPU-1, 81559, 1, 0, 30, 570.1\n";
        let err = parse_smi_csv(&format!("{good}NVIDIA-SMI has failed because it couldn't communicate"))
            .expect_err("garbage line");
        assert!(err.starts_with("line 2:"), "{err}");
        assert!(parse_smi_csv("x, NVIDIA H100, GPU-1, 81559, 1, 0, 30, 570.1").is_err());
        assert!(parse_smi_csv("0, NVIDIA H100, GPU-1, lots, 1, 0, 30, 570.1").is_err());
        assert!(parse_smi_csv("0, NVIDIA H100, GPU-1, 81559, 1, 0, hot, 570.1").is_err());
    }

    #[test]
    fn run_reports_missing_binaries_and_timeouts() {
        let missing = run(&mut Command::new("podctl-no-such-binary-xyz"), TIMEOUT).expect_err("missing");
        assert_eq!(missing, "not found on PATH");
        let slow = run(Command::new("sleep").arg("5"), Duration::from_millis(200)).expect_err("timeout");
        assert!(slow.starts_with("no answer within"), "{slow}");
        let failed =
            run(Command::new("sh").args(["-c", "echo boom >&2; exit 3"]), TIMEOUT).expect_err("exit 3");
        assert!(failed.contains("boom"), "{failed}");
        assert_eq!(run(Command::new("echo").arg("ok"), TIMEOUT).as_deref(), Ok("ok\n"));
    }
}
