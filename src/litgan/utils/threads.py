"""How many threads a CPU run computes with. PyTorch starts one per core in every process, which
oversubscribes the cores under DDP (two processes on two cores) and beside another busy
process: a thread waiting for a descheduled sibling at every operation made such runs 10-40x
slower. A run takes the cores that are idle when it starts, shared among its processes."""

import logging
import os
import sys
import time

import torch

log = logging.getLogger(__name__)


def idle_cores(interval: float = 0.1) -> float:
    """Cores of this process's affinity set that nothing ran on during `interval` seconds, from
    the kernel's per-CPU counters (/proc/stat, Linux); every core elsewhere."""
    cores = usable_cores()
    if sys.platform != "linux":
        return float(len(cores))
    before = _cpu_times(cores)
    time.sleep(interval)
    after = _cpu_times(cores)
    idle = 0.0
    for (idle0, total0), (idle1, total1) in zip(before, after):
        idle += (idle1 - idle0) / max(1, total1 - total0)
    return idle


def usable_cores() -> list[int]:
    """The cores this process may run on (its affinity set under Linux, e.g. from taskset or SLURM)."""
    return sorted(os.sched_getaffinity(0)) if sys.platform == "linux" else list(range(os.cpu_count() or 1))


def _cpu_times(cores: list[int]) -> list[tuple[int, int]]:
    """(idle, total) clock ticks of each core in `cores`."""
    times = {}
    with open("/proc/stat") as stat:
        for line in stat:
            name, *fields = line.split()
            if name.startswith("cpu") and name != "cpu":
                ticks = [int(field) for field in fields]
                times[int(name[3:])] = (ticks[3] + ticks[4], sum(ticks))  # idle + iowait
    return [times[core] for core in cores]


def choose_cpu_threads(processes: int, requested: int | None = None) -> int:
    """`requested` (the config's `cpu_threads`) if given; else OMP_NUM_THREADS if the user set it;
    else the idle cores divided among this machine's `processes`, at least one each. Several
    processes start together, so they divide all the cores instead of measuring one another."""
    if requested is not None:
        return requested
    if os.environ.get("OMP_NUM_THREADS"):
        return int(os.environ["OMP_NUM_THREADS"].split(",")[0])  # "outer,inner" names nested levels
    available = len(usable_cores()) if processes > 1 else round(idle_cores())
    return max(1, available // processes)


def use_cpu_threads(processes: int, requested: int | None = None) -> None:
    threads = choose_cpu_threads(processes, requested)
    if threads != torch.get_num_threads():
        log.info(
            "Computing with %d CPU thread(s) per process (%d process(es) on this machine; set cpu_threads= to choose).",
            threads,
            processes,
        )
    torch.set_num_threads(threads)
