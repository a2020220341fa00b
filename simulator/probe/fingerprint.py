"""This machine as a measured file records it: CPU, cores, memory, and NVIDIA GPUs when NVML answers."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from simulator import units
from simulator.perf.measured import GpuInfo, Hardware


def fingerprint() -> Hardware:
    """This machine: CPU model, cores, memory, and NVIDIA GPUs when NVML answers."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        pages, page = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory_gb = pages * page / units.BYTES_PER_GB
    except (ValueError, OSError):
        memory_gb = 0.0
    return Hardware(
        cpu_model=cpu,
        cpu_cores=os.cpu_count() or 1,
        memory_gb=round(memory_gb, 1),
        gpus=_nvml_gpus(),
        platform=f"{platform.system()} {platform.release()} {platform.machine()}",
    )


def _nvml_gpus() -> list[GpuInfo]:
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except Exception:  # no driver: a CPU machine
        return []
    try:
        driver = pynvml.nvmlSystemGetDriverVersion()
        gpus = []
        for k in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(k)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle).total / units.BYTES_PER_GB
            name = pynvml.nvmlDeviceGetName(handle)
            gpus.append(
                GpuInfo(
                    name=name if isinstance(name, str) else name.decode(),
                    memory_gb=round(memory, 1),
                    driver=driver if isinstance(driver, str) else driver.decode(),
                )
            )
        return gpus
    finally:
        pynvml.nvmlShutdown()
