"""What the running Hydra job is (single run or one job of a sweep), and how its other DDP
processes are started."""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

# what Lightning's subprocess launcher sets for the processes of one training
_DDP_VARIABLES = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE")


def in_sweep() -> bool:
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def sweep_name() -> str | None:
    """The sweep's folder name (its start time), shared by all its jobs; None outside a sweep."""
    return Path(HydraConfig.get().sweep.dir).name if in_sweep() else None


def job_name() -> str | None:
    """The job's overrides (what varies in a sweep), or its folder name when it has none."""
    if not HydraConfig.initialized():
        return None
    hydra = HydraConfig.get()
    return hydra.job.override_dirname or Path(hydra.runtime.output_dir).name


def _sweep_job_command(local_rank: int) -> tuple[list[str], str]:
    """The command of a sweep job's process `local_rank`: this job as a single run in the job's folder."""
    from hydra.utils import get_original_cwd, to_absolute_path

    hydra = HydraConfig.get()
    command = [
        sys.executable,
        to_absolute_path(sys.argv[0]),
        *hydra.overrides.task,
        "hydra.mode=RUN",
        f'hydra.run.dir="{hydra.runtime.output_dir}"',
        f"hydra.job.name={hydra.job.name}_ddp_process_{local_rank}",
        "hydra.output_subdir=null",
    ]
    return command, get_original_cwd()


@contextmanager
def ddp_processes_run_this_job() -> Iterator[None]:
    """Lightning starts the other DDP processes by running the command line again with
    `hydra.run.dir` (lightning.fabric's `_hydra_subprocess_cmd`). In a sweep that command line is
    the whole sweep (`-m a=1,2`): each process would launch the sweep again, into another folder,
    and an Optuna sweep would sample other hyperparameters in every process (Lightning issue
    #16694, Hydra issue #2070). Within a sweep job, the processes are started as single runs of
    this job's overrides in this job's folder instead.

    Lightning leaves its process group and the variables that describe it (LOCAL_RANK, ...) in
    place after `fit`; the next job of the sweep would take them for processes someone else
    started. Both are removed when the job ends."""
    if not in_sweep():
        yield
        return
    from lightning.pytorch.strategies.launchers import subprocess_script

    lightning_command = subprocess_script._hydra_subprocess_cmd
    subprocess_script._hydra_subprocess_cmd = _sweep_job_command
    environment = {name: os.environ.get(name) for name in _DDP_VARIABLES}
    try:
        yield
    finally:
        subprocess_script._hydra_subprocess_cmd = lightning_command
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
        for name, value in environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
