"""CPU thread counts: what a run next to a busy process, a DDP process and a user's override get."""

import subprocess
import sys
import time

import pytest

from litgan.utils.threads import choose_cpu_threads, idle_cores, usable_cores


@pytest.fixture
def busy_core():
    """A process spinning on one of this process's cores, for as long as the test runs."""
    core = usable_cores()[-1]
    spin = f"import os; os.sched_setaffinity(0, {{{core}}})\nwhile True: pass"
    process = subprocess.Popen([sys.executable, "-c", spin])
    time.sleep(0.5)  # started and spinning
    yield core
    process.kill()
    process.wait()


@pytest.mark.skipif(sys.platform != "linux", reason="idle cores are read from Linux's /proc/stat")
def test_a_run_beside_a_busy_process_leaves_it_its_core(busy_core, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert idle_cores() <= len(usable_cores()) - 0.7
    assert choose_cpu_threads(processes=1) <= max(1, len(usable_cores()) - 1)


def test_ddp_processes_share_the_cores(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    cores = len(usable_cores())
    assert choose_cpu_threads(processes=2) == max(1, cores // 2)
    assert choose_cpu_threads(processes=2 * cores) == 1


def test_the_config_and_omp_num_threads_override_the_choice(monkeypatch):
    assert choose_cpu_threads(processes=2, requested=3) == 3
    too_many = len(usable_cores()) + 1  # more than any choice of its own
    monkeypatch.setenv("OMP_NUM_THREADS", str(too_many))
    assert choose_cpu_threads(processes=1) == choose_cpu_threads(processes=2) == too_many
