//! One GPU as a backend reports it, and what a backend (NVML, `nvidia-smi`, a test's
//! stand-in) answers.

/// One GPU.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Gpu {
    /// The device index (NVML / nvidia-smi order).
    pub index: u32,
    /// Product name, e.g. `NVIDIA H100 80GB HBM3`.
    pub name: String,
    /// `GPU-…` identifier, when known.
    pub uuid: Option<String>,
    /// Installed memory in MiB (0 when the device does not report it).
    pub memory_total_mib: u64,
    /// Memory in use in MiB (from NVML: total minus free, so the driver's reserve counts as used).
    pub memory_used_mib: u64,
    /// Percent of the last sample period a kernel ran.
    pub utilization_pct: Option<u32>,
    /// Core temperature in °C.
    pub temperature_c: Option<u32>,
}

impl Gpu {
    /// Memory not in use, in MiB.
    pub fn memory_free_mib(&self) -> u64 {
        self.memory_total_mib.saturating_sub(self.memory_used_mib)
    }
}

/// A way to list the GPUs: NVML on a GPU machine, `nvidia-smi`, or a test's stand-in.
pub trait GpuBackend {
    /// The GPUs and the driver version, or why they cannot be listed.
    fn query(&self) -> Result<(Vec<Gpu>, Option<String>), String>;
}
