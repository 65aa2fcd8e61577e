//! GPUs through NVML (`nvml-wrapper`). The library `libnvidia-ml.so.1` is loaded at run time,
//! so on a machine without the NVIDIA driver `Nvml::init()` fails and this returns the error
//! text; nothing here panics.

use nvml_wrapper::Nvml;
use nvml_wrapper::enum_wrappers::device::TemperatureSensor;

use super::device::{Gpu, GpuBackend};

const MIB: u64 = 1024 * 1024;

/// The GPUs NVML sees and the driver version, or the NVML error text.
///
/// `memory_used_mib` is total minus free, so it includes the memory the driver reserves and
/// [`Gpu::memory_free_mib`] matches what CUDA (and vLLM's start-up check) sees as free.
/// The NVML library as a [`super::GpuBackend`].
#[derive(Debug, Clone, Copy)]
pub(super) struct NvmlLibrary;

impl GpuBackend for NvmlLibrary {
    fn query(&self) -> Result<(Vec<Gpu>, Option<String>), String> {
        query()
    }
}

fn query() -> Result<(Vec<Gpu>, Option<String>), String> {
    let nvml = Nvml::init().map_err(|e| e.to_string())?;
    let driver_version = nvml.sys_driver_version().ok();
    let count = nvml.device_count().map_err(|e| format!("device count: {e}"))?;
    let mut gpus = Vec::new();
    for index in 0..count {
        let device = nvml.device_by_index(index).map_err(|e| format!("GPU {index}: {e}"))?;
        let name = device.name().map_err(|e| format!("GPU {index} name: {e}"))?;
        let memory = device.memory_info().map_err(|e| format!("GPU {index} memory: {e}"))?;
        gpus.push(Gpu {
            index,
            name,
            uuid: device.uuid().ok(),
            memory_total_mib: memory.total / MIB,
            memory_used_mib: memory.total.saturating_sub(memory.free) / MIB,
            utilization_pct: device.utilization_rates().ok().map(|u| u.gpu),
            temperature_c: device.temperature(TemperatureSensor::Gpu).ok(),
        });
    }
    Ok((gpus, driver_version))
}
