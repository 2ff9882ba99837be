"""Files written whole or not at all: caches several processes may write at once (runs, sweep
jobs, DDP ranks) and checkpoints, whatever a kill, a full disk or the filesystem of `$TMPDIR`."""

import fcntl
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from litgan.utils.errors import ConfigError


def atomic_write(path: Path, write: Callable[[BinaryIO], Any]) -> None:
    """Write `path` through `write(file)` on a temporary file of this process's own beside it,
    flushed to disk and renamed into place: a reader, or a run killed at any moment or stopped by
    a full disk, sees the old file or the whole new one, and concurrent writers never rename each
    other's half-written file away. (A temporary file elsewhere, such as `$TMPDIR` on another
    filesystem, is copied over the target, which a kill can leave half-written.)"""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(partial, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def atomic_save(obj: Any, path: Path) -> None:
    """torch.save to `path`, whole or not at all (`atomic_write`)."""
    atomic_write(path, lambda file: torch.save(obj, file))


def atomic_write_text(path: Path, text: str) -> None:
    """`path.write_text(text)`, whole or not at all (`atomic_write`)."""
    atomic_write(path, lambda file: file.write(text.encode()))


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint writer, saving through `atomic_save`."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError("AtomicCheckpointIO takes no storage_options.")
        atomic_save(checkpoint, Path(path))


class RunFolderLock:
    """Holds a run's folder while the run lives: a second run given the same folder
    (`hydra.run.dir`) would mix its checkpoints, config and samples with this one's, and is
    refused. The lock is the operating system's (`flock`), so a killed run never leaves it behind."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.file = open(folder / ".lock", "a+")  # noqa: SIM115 - held open while the run lives
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            holder = self.file.read().strip() or "another process"
            self.file.close()
            raise ConfigError(
                f"{folder} is the folder of a run that is still going ({holder}): give this run another "
                "hydra.run.dir, or leave it out for a new folder."
            ) from None
        self.file.truncate(0)
        self.file.write(f"pid {os.getpid()} on {socket.gethostname()}")
        self.file.flush()

    def release(self) -> None:
        fcntl.flock(self.file, fcntl.LOCK_UN)
        self.file.close()
