"""Hydra callbacks (configs/hydra/default.yaml): what must happen before Hydra writes into a run
folder."""

import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from litgan.utils.errors import ConfigError, storage_problem
from litgan.utils.files import RunFolderLock

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
