"""Hydra callbacks (configs/hydra/default.yaml): what must happen before Hydra writes into a run
folder, and the table a sweep ends with."""

import json
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from litgan.utils.console import table
from litgan.utils.errors import ConfigError, storage_problem
from litgan.utils.files import RunFolderLock, atomic_write_text

log = logging.getLogger("litgan")

# set for every process of a multi-process run but the first (Lightning's launcher, SLURM, torchrun)
_RANK_VARIABLES = ("RANK", "LOCAL_RANK", "SLURM_PROCID")


class HoldRunFolder(Callback):
    """One run folder holds one live run: the folder of a run, or of a sweep, is locked before
    Hydra writes its config and log there, and a second run given the same folder is refused in
    one sentence. The other processes of a DDP run share their first process's folder."""

    def __init__(self) -> None:
        self.lock: RunFolderLock | None = None

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.hold(Path(config.hydra.run.dir))

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.hold(Path(config.hydra.sweep.dir))

    def hold(self, folder: Path) -> None:
        if any(os.environ.get(name, "0") != "0" for name in _RANK_VARIABLES):
            return
        try:
            self.lock = RunFolderLock(folder)
        except OSError as error:
            log.error("%s", storage_problem(error) or error)
            sys.exit(1)  # Hydra turns a callback's exceptions into warnings and runs on
        except ConfigError as error:
            log.error("%s", error)
            sys.exit(1)

    def on_run_end(self, config: DictConfig, **kwargs: Any) -> None:
        self.release()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        self.release()

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None


class CheckSweep(Callback):
    """Mistakes in a sweep's own settings, refused in one sentence before any job starts."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweeper, launcher = config.hydra.sweeper, config.hydra.launcher
        problem = None
        if "n_trials" in sweeper and sweeper.n_trials < 1:
            problem = f"hydra.sweeper.n_trials={sweeper.n_trials}: a study needs at least 1 trial."
        elif "slurm" in launcher._target_.lower() and shutil.which("srun") is None:
            problem = (
                "hydra/launcher=slurm submits the jobs to SLURM, and this machine has no srun: launch from a "
                "SLURM login node, or use hydra/launcher=submitit_local to run the jobs here."
            )
        if problem:
            log.error("%s", problem)
            sys.exit(1)  # Hydra turns a callback's exceptions into warnings and runs on


class SummarizeSweep(Callback):
    """When a multirun or sweep ends: a table of its jobs (the overrides that tell them apart, the
    optimized metric, whether they finished), best first, on the console and in
    `<sweep folder>/summary.txt`. Read from the job folders (each finished run writes
    `metrics.json`), so it holds whatever launched the jobs."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep = Path(config.hydra.sweep.dir)
        jobs = sorted((folder for folder in sweep.iterdir() if is_job(folder)), key=job_order)
        if not jobs:
            return
        metric, mode = config.get("optimized_metric"), config.get("optimized_metric_mode", "min")
        overrides = {job: yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text()) or [] for job in jobs}
        shared = set.intersection(*(set(given) for given in overrides.values()))
        rows = []
        for job in jobs:
            value, status = job_result(job, metric)
            varying = " ".join(o for o in overrides[job] if o not in shared) or "(none)"
            rows.append((job.name, varying, value, status))
        finished = sorted((row for row in rows if row[2] is not None), key=lambda row: row[2], reverse=mode == "max")
        text = table(
            [(name, given, "" if value is None else f"{value:.4g}", status)
             for name, given, value, status in finished + [row for row in rows if row[2] is None]],
            ("job", "overrides", metric or "optimized_metric (none set)", "status"),
        )  # fmt: skip
        atomic_write_text(sweep / "summary.txt", text + "\n")
        log.info("The sweep's jobs, best first (%s):\n%s", sweep / "summary.txt", text)


def is_job(folder: Path) -> bool:
    return (folder / ".hydra" / "overrides.yaml").is_file()


def job_order(folder: Path) -> tuple[int, str]:
    return (int(folder.name), "") if folder.name.isdigit() else (sys.maxsize, folder.name)


def job_result(folder: Path, metric: str | None) -> tuple[float | None, str]:
    """The metric's last value in a job folder, and whether the job finished."""
    result = folder / "metrics.json"
    if not result.is_file():
        return None, "failed or stopped (its log says which)"
    value = json.loads(result.read_text()).get(metric) if metric else None
    return value, "finished" if metric is None or value is not None else f"finished without {metric}"
