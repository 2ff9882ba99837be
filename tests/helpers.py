"""Test helpers: callbacks that training subprocesses import (PYTHONPATH=repo root), a quiet
in-process training run, and a straight-vs-resumed one."""

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


def fit(cfg, callbacks=(), ckpt_path=None, **trainer_options):
    """Train the model of `cfg` in this process, seeded with `cfg.seed`, for `cfg.trainer.max_steps`
    steps, with no logger, checkpoints, validation or progress bar; `trainer_options` go to the
    Trainer (e.g. max_steps, precision). Returns (trainer, model)."""
    from hydra.utils import instantiate
    from lightning import Trainer, seed_everything

    from litgan.models.build import build_model

    seed_everything(cfg.seed)  # the nets' initial weights
    datamodule = instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    options = dict(accelerator="cpu", devices=1, max_steps=cfg.trainer.max_steps, logger=False,
                   enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                   limit_val_batches=0)  # fmt: skip
    trainer = Trainer(callbacks=list(callbacks), **(options | trainer_options))
    trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
    return trainer, model


def straight_and_resumed(compose_config, overrides: list[str], steps: int, checkpoint_dir: Path):
    """Train `steps` steps in one go, and again as steps/2, checkpoint, resume to `steps`:
    returns (model, trainer) of the straight run and the resumed model."""
    from lightning.pytorch.callbacks import ModelCheckpoint

    cfg = compose_config(overrides)
    trainer, straight = fit(cfg, max_steps=steps)
    half = ModelCheckpoint(dirpath=checkpoint_dir, every_n_train_steps=steps // 2, filename="half")
    fit(cfg, [half], max_steps=steps // 2, enable_checkpointing=True)
    _, resumed = fit(cfg, ckpt_path=str(checkpoint_dir / "half.ckpt"), max_steps=steps)
    return straight, trainer, resumed


class RecordJobPerRank(Callback):
    """When training starts, every process writes what its job trains with to
    `<run folder>/job_rank<R>.json`: which process, which seed and learning rate."""

    def on_train_start(self, trainer, pl_module):
        import json

        run_config = pl_module.hparams.run_config
        record = {
            "rank": trainer.global_rank,
            "world_size": trainer.world_size,
            "seed": run_config["seed"],
            "lr_g": trainer.optimizers[0].param_groups[0]["lr"],
        }
        path = Path(trainer.default_root_dir) / f"job_rank{trainer.global_rank}.json"
        path.write_text(json.dumps(record))


class FailAtStep(Callback):
    """Raises when the generator reaches `step`: a run that ends on an error."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, *args):
        if trainer.global_step == self.step:
            raise RuntimeError(f"planned failure at generator step {self.step}")


ROOT = Path(__file__).resolve().parents[1]


def start_script(script: str, args: list[str], **env: str):
    """`python <script> <args>` started as a user starts it, from the repository root, W&B offline."""
    import os
    import subprocess
    import sys

    environment = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}", "WANDB_MODE": "offline", **env}
    return subprocess.Popen(
        [sys.executable, script, *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_script(script: str, args: list[str], timeout: float = 300, **env: str) -> tuple[int, str]:
    """Run `script` to its end: its exit status and what it printed (stdout and stderr, as a user's
    terminal shows them)."""
    process = start_script(script, args, **env)
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


class Diverge(Callback):
    """The run diverges at generator step `step` (as a NaN loss reports it), the first time only
    when `once_marker` is given: the file marks that it has happened."""

    def __init__(self, step: int, once_marker: str | None = None) -> None:
        self.step, self.once_marker = step, Path(once_marker) if once_marker else None

    def on_train_batch_end(self, trainer, pl_module, *args):
        if trainer.global_step != self.step or (self.once_marker is not None and self.once_marker.exists()):
            return
        if self.once_marker is not None:
            self.once_marker.touch()
        from litgan.utils.errors import TrainingDiverged

        raise TrainingDiverged(f"Training diverged: planned at generator step {self.step}.")


class SignalAtStep(Callback):
    """Sends this process `signum` during generator step `step`, as a scheduler or Ctrl-C would."""

    def __init__(self, step: int, signum: int) -> None:
        self.step, self.signum = step, signum

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        import os

        if trainer.global_step == self.step - 1:
            os.kill(os.getpid(), self.signum)
