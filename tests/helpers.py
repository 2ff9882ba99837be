"""Test-only callbacks, importable by training runs started as subprocesses (PYTHONPATH=repo root)."""

from pathlib import Path

import torch
from lightning import Callback


class SaveParametersPerRank(Callback):
    """At the end of training, every process writes its parameters to `<path>/rank<R>.pt`."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def on_train_end(self, trainer, pl_module):
        self.path.mkdir(parents=True, exist_ok=True)
        state = {name: p.detach().cpu().clone() for name, p in pl_module.named_parameters()}
        torch.save(state, self.path / f"rank{trainer.global_rank}.pt")
