"""Files that several processes may write at once (caches shared by runs, sweep jobs, DDP ranks)."""

import os
from pathlib import Path
from typing import Any

import torch


def atomic_save(obj: Any, path: Path) -> None:
    """torch.save to `path` through a temporary file of this process's own: a concurrent reader
    sees the old file or the whole new one, and concurrent writers never rename each other's
    half-written file away."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(obj, partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
