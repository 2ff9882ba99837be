"""The errors that stop a run, and how the entry scripts report them.

A user's mistake (`UserError`: a config value, a file, a folder, a setting) is one sentence and
exit status 1; a run stopped by a signal (`Interrupted`) names the checkpoint it saved and how to
resume, and exits with 128 + the signal's number; anything else keeps its traceback.
`HYDRA_FULL_ERROR=1` shows the traceback of every error."""

import errno
import functools
import logging
import os
import shlex
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig

from litgan.utils.hydra_job import in_sweep

log = logging.getLogger("litgan")

T = TypeVar("T")


class UserError(Exception):
    """Something the user asked for or gave cannot be used. The message is the sentence the user
    reads: what is wrong, named by its key, value, file or folder, and what to do."""


class ConfigError(UserError, ValueError):
    """A composed config that cannot run; the message names every offending key."""


class DataError(UserError, ValueError):
    """A dataset that is missing, empty, damaged or too small for what the run asks of it."""


class MissingFile(UserError, FileNotFoundError):
    """A file or folder the run needs is not where the config says."""


class TrainingDiverged(UserError, FloatingPointError):
    """The losses or weights became NaN or infinite; the checkpoints saved before are kept."""


class StorageError(UserError, OSError):
    """A disk that is full or a folder that cannot be written."""


class Interrupted(BaseException):
    """A run stopped by a signal (SIGTERM from a scheduler, Ctrl-C) after the generator step it was
    in; `checkpoint` is where that step was saved."""

    def __init__(self, signum: int, step: int, checkpoint: Path) -> None:
        super().__init__(f"{signal.Signals(signum).name} at generator step {step}")
        self.signum, self.step, self.checkpoint = signum, step, checkpoint


class HydraReport(CompactHydraException):
    """A sweep job's user error, as Hydra reports it at the end of the sweep: its message only,
    no traceback."""


def job_log_file() -> Path | None:
    """The log file of the running Hydra job (`<run folder>/<task>.log`)."""
    if not HydraConfig.initialized():
        return None
    hydra = HydraConfig.get()
    return Path(hydra.runtime.output_dir) / f"{hydra.job.name}.log"


def resume_command(checkpoint: Path) -> str:
    """The command line that continues this run from `checkpoint`."""
    overrides = [o for o in HydraConfig.get().overrides.task if not o.startswith("ckpt_path=")]
    return shlex.join([sys.argv[0], *overrides, f"ckpt_path={checkpoint}"])


@contextmanager
def reason_logged(log: logging.Logger, stage: str) -> Iterator[None]:
    """Log the error that ends `stage` before it propagates: the run folder's log file (Hydra's
    job log) then says why the run stopped, not only the terminal."""
    try:
        yield
    except OSError as error:
        reason = storage_problem(error)
        log.error("%s stopped: %s", stage, reason or error)
        if reason is None:
            raise
        raise StorageError(reason) from error
    except Exception as error:
        log.error("%s stopped: %s", stage, error)
        raise


def storage_problem(error: OSError) -> str | None:
    """The sentence for a disk that is full or cannot be written, which the user can fix; None for
    other operating-system errors."""
    where = f" writing {error.filename}" if error.filename else ""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"The disk is full{where}: free some space, or write the runs elsewhere with paths.log_dir=...; "
            "the files saved so far are whole and kept."
        )
    if error.errno in (errno.ENOTDIR, errno.EEXIST):
        return f"{error.filename} is a file where a folder is needed: give hydra.run.dir or paths.log_dir a folder."
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"{error.strerror}{where}: give a folder this user can write, with paths.log_dir= or hydra.run.dir=."
    return None


def reported(task: Callable[[DictConfig], T]) -> Callable[[DictConfig], T]:
    """Wrap an entry script's Hydra task: a user error (already logged by `reason_logged`) adds the
    run's log file and ends the process with status 1; in a sweep the job fails instead, and a config
    error stops the sweep, since every job would fail the same way. A signal's stop is logged with
    the resume command and ends with 128 + the signal's number. Other errors keep their traceback,
    and so does every error under HYDRA_FULL_ERROR=1."""

    @functools.wraps(task)
    def run(cfg: DictConfig) -> T:
        full_errors = os.environ.get("HYDRA_FULL_ERROR") == "1"
        try:
            return task(cfg)
        except UserError as error:
            if full_errors:
                raise
            log.error("The run's log: %s", job_log_file())
            if not in_sweep() or isinstance(error, ConfigError):
                sys.exit(1)
            raise HydraReport(f"{HydraConfig.get().job.override_dirname or 'a job'}: {error}") from error
        except Interrupted as stop:
            command = resume_command(stop.checkpoint)
            log.warning("Stopped by %s; saved %s. Resume with: python %s", stop, stop.checkpoint, command)
            if full_errors:
                raise
            sys.exit(128 + stop.signum)
        except SIGTERMException:  # Lightning's own stop, in a run without litgan's checkpoint callback
            log.warning("Stopped by SIGTERM; no checkpoint was saved (callbacks.last_checkpoint is off).")
            sys.exit(128 + signal.SIGTERM)

    return run
