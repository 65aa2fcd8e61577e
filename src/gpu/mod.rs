//! The GPUs of this machine for `doctor`, `status` and the checks before `start`: NVML first
//! (loaded at run time, so a GPU-less machine gets a report with an error, never a panic),
//! `nvidia-smi` as the fallback, and a pure prediction of vLLM's start-up memory check.
//!
//! [`probe`] blocks (NVML calls, or nvidia-smi for up to 2 s): call it from
//! `spawn_blocking` in async code. `CUDA_VISIBLE_DEVICES` is not applied: indexes are the
//! machine's.

mod device;
mod nvml;
mod smi;

pub use device::{Gpu, GpuBackend};

/// Where GPU information came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The NVML library (`libnvidia-ml.so.1`).
    Nvml,
    /// The `nvidia-smi` CSV query.
    NvidiaSmi,
}

/// What [`probe`] found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GpuReport {
    /// Where `gpus` came from; None when no source listed a GPU.
    pub source: Option<Source>,
    /// The NVIDIA driver version, when known.
    pub driver_version: Option<String>,
    /// The GPUs, by index.
    pub gpus: Vec<Gpu>,
    /// why no GPU information (NVML init error text and nvidia-smi failure), when gpus is empty
    pub error: Option<String>,
}

/// Probes NVML first (nvml_wrapper::Nvml::init(); it loads libnvidia-ml.so.1 at run time, so this
/// returns an error-bearing report, never panics, on machines without a GPU), then
/// `nvidia-smi --query-gpu=index,name,uuid,memory.total,memory.used,utilization.gpu,temperature.gpu,driver_version --format=csv,noheader,nounits`
/// (with a 2 s timeout; missing binary is not an error beyond the report text).
pub fn probe() -> GpuReport {
    probe_with(&nvml::NvmlLibrary, &smi::NvidiaSmi)
}

/// [`probe`] with the backends given: `primary` (NVML), then `fallback` (nvidia-smi).
pub fn probe_with(primary: &dyn GpuBackend, fallback: &dyn GpuBackend) -> GpuReport {
    let (nvml_driver, nvml_error) = match primary.query() {
        Ok((gpus, driver_version)) if !gpus.is_empty() => {
            return GpuReport { source: Some(Source::Nvml), driver_version, gpus, error: None };
        }
        Ok((_, driver_version)) => (driver_version, "NVML: no GPU found".to_owned()),
        Err(e) => (None, format!("NVML: {e}")),
    };
    match fallback.query() {
        Ok((gpus, driver_version)) if !gpus.is_empty() => {
            GpuReport { source: Some(Source::NvidiaSmi), driver_version, gpus, error: None }
        }
        Ok((_, driver_version)) => GpuReport {
            source: None,
            driver_version: driver_version.or(nvml_driver),
            gpus: Vec::new(),
            error: Some(format!("{nvml_error}; nvidia-smi: no GPU listed")),
        },
        Err(e) => GpuReport {
            source: None,
            driver_version: nvml_driver,
            gpus: Vec::new(),
            error: Some(format!("{nvml_error}; nvidia-smi: {e}")),
        },
    }
}

pub fn memory_shortfall_mib(gpus: &[Gpu], utilization: f64, count: usize) -> Vec<(u32, u64)> {
    let utilization = if utilization.is_nan() { 1.0 } else { utilization.clamp(0.0, 1.0) };
    gpus.iter()
        .take(count)
        .map(|gpu| {
            // Exact for any real memory size (< 2^52 MiB); the product lies in 0..=total.
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let required = (gpu.memory_total_mib as f64 * utilization).ceil() as u64;
            (gpu.index, required.saturating_sub(gpu.memory_free_mib()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Result<(Vec<Gpu>, Option<String>), String>);

    impl GpuBackend for Fixed {
        fn query(&self) -> Result<(Vec<Gpu>, Option<String>), String> {
            self.0.clone()
        }
    }

    #[test]
    fn nvml_first_then_nvidia_smi_then_both_errors() {
        let two = Fixed(Ok((vec![gpu(0, 81920, 0), gpu(1, 81920, 0)], Some("580.1".into()))));
        let broken = Fixed(Err("libnvidia-ml.so.1: cannot open shared object file".into()));
        let missing = Fixed(Err("not found on PATH".into()));
        let report = probe_with(&two, &missing);
        assert_eq!((report.source, report.gpus.len()), (Some(Source::Nvml), 2));
        let report = probe_with(&broken, &two);
        assert_eq!((report.source, report.gpus.len(), report.error), (Some(Source::NvidiaSmi), 2, None));
        let report = probe_with(&broken, &missing);
        assert_eq!(report.source, None);
        let error = report.error.expect("why");
        assert!(error.contains("libnvidia-ml") && error.contains("not found on PATH"), "{error}");
    }

    fn gpu(index: u32, total: u64, used: u64) -> Gpu {
        Gpu {
            index,
            name: "NVIDIA H100 80GB HBM3".into(),
            uuid: None,
            memory_total_mib: total,
            memory_used_mib: used,
            utilization_pct: None,
            temperature_c: None,
        }
    }

    #[test]
    fn free_memory_never_underflows() {
        assert_eq!(gpu(0, 1000, 300).memory_free_mib(), 700);
        assert_eq!(gpu(0, 1000, 1300).memory_free_mib(), 0);
    }

    #[test]
    fn shortfall_per_gpu() {
        // 80 GiB card: 0.92 needs 75366.4 → 75367 MiB free.
        let gpus = [gpu(0, 81920, 500), gpu(1, 81920, 40000), gpu(2, 81920, 81920)];
        assert_eq!(memory_shortfall_mib(&gpus, 0.92, 2), vec![(0, 0), (1, 75367 - 41920)]);
        assert_eq!(memory_shortfall_mib(&gpus, 0.92, 3)[2], (2, 75367));
        // Exactly enough is enough.
        assert_eq!(memory_shortfall_mib(&[gpu(0, 1000, 500)], 0.5, 1), vec![(0, 0)]);
        assert_eq!(memory_shortfall_mib(&[gpu(0, 1000, 501)], 0.5, 1), vec![(0, 1)]);
    }

    #[test]
    fn shortfall_edges() {
        let gpus = [gpu(4, 1000, 1000)];
        assert!(memory_shortfall_mib(&gpus, 0.9, 0).is_empty());
        assert_eq!(memory_shortfall_mib(&gpus, 0.9, 8), vec![(4, 900)]);
        assert_eq!(memory_shortfall_mib(&gpus, 0.0, 1), vec![(4, 0)]);
        assert_eq!(memory_shortfall_mib(&gpus, 7.0, 1), vec![(4, 1000)]);
        assert_eq!(memory_shortfall_mib(&gpus, f64::NAN, 1), vec![(4, 1000)]);
    }

    #[test]
    fn report_serializes_in_snake_case() {
        let report = GpuReport {
            source: Some(Source::NvidiaSmi),
            driver_version: None,
            gpus: vec![gpu(0, 10, 1)],
            error: None,
        };
        let json = serde_json::to_value(&report).expect("serializes");
        assert_eq!(json["source"], "nvidia_smi");
        assert_eq!(json["gpus"][0]["memory_total_mib"], 10);
    }

    #[test]
    fn probe_matches_the_machine() {
        let report = probe();
        eprintln!("{report:?}");
        if std::path::Path::new("/dev/nvidiactl").exists() {
            // A GPU machine: NVML or nvidia-smi must list the GPUs.
            assert!(!report.gpus.is_empty(), "{report:?}");
            assert!(report.source.is_some());
            assert_eq!(report.error, None);
            assert!(
                report.gpus.iter().all(|g| g.memory_total_mib > 0 && g.memory_used_mib <= g.memory_total_mib)
            );
        } else {
            assert!(report.gpus.is_empty(), "{report:?}");
            assert_eq!(report.source, None);
            let error = report.error.expect("an error explains the missing GPUs");
            assert!(error.starts_with("NVML: ") && error.contains("; nvidia-smi: "), "{error}");
        }
    }
}
