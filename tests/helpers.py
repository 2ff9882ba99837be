"""Test helpers, in one module: composed configs and tiny runs (`compose_train_config`,
`tiny_overrides`, `fit`), callbacks that training subprocesses import (PYTHONPATH=repo root),
starting the entry scripts, files the loaders read, and what W&B wrote to its offline run files.

What W&B really wrote: the records of offline runs (`offline-run-*/run-<id>.wandb`), decoded
with wandb's own protobuf messages. The file is a LevelDB-style log (wandb-core's store): a
7-byte header, then 32 KiB blocks of records, each a checksum, a length, a type (full, first,
middle, last) and data; records split across blocks are joined again."""

import json
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from lightning import Callback
from omegaconf import DictConfig, open_dict
from PIL import Image
from wandb.proto import wandb_internal_pb2

CONFIG_DIR = str(Path(__file__).resolve().parents[1] / "configs")


def compose_train_config(overrides: list[str], output_dir: Path, config_name: str = "train") -> DictConfig:
    """configs/train.yaml (or `config_name`, e.g. eval) with `overrides`, writing under `output_dir`."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name, overrides=overrides)
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
        cfg.paths.log_dir = str(output_dir)
    return cfg


TINY_NETS = {
    "mlp": ["architecture.generator.hidden_dim=32", "architecture.discriminator.hidden_dim=32"],
    "dcgan": [
        "architecture.generator.features=8",
        "architecture.discriminator.features=8",
        "architecture.generator.latent_dim=16",
    ],
    "resnet": [
        "architecture.generator.width=2",
        "architecture.discriminator.width=2",
        "architecture.generator.latent_dim=16",
    ],
    "stylegan2": [
        "architecture.generator.latent_dim=16",
        "architecture.generator.w_dim=16",
        "architecture.generator.mapping_layers=2",
        "architecture.generator.channel_base=128",
        "architecture.generator.channel_max=16",
        "architecture.discriminator.channel_base=128",
        "architecture.discriminator.channel_max=16",
    ],
}


def tiny_overrides(architecture: str = "mlp", steps: int = 4) -> list[str]:
    """Small nets, few steps, no W&B: a run of seconds that exercises the whole loop."""
    return [
        f"architecture={architecture}",
        *TINY_NETS[architecture],
        f"trainer.max_steps={steps}",
        "trainer.accelerator=cpu",
        "trainer.val_check_interval=2",
        "+trainer.limit_val_batches=1",
        "+trainer.enable_progress_bar=false",
        "+trainer.enable_model_summary=false",
        "logger=csv",
        "~callbacks.progress_bar",
        "data.batch_size=16",
        "callbacks.last_checkpoint.every_n_train_steps=2",
    ]


# scenes per attribute classifier of the translation measures: 100% held out (600 gives 79% for shape)
CLASSIFIER_SAMPLES = 1000


CYCLEGAN_TINY = [
    "model=cyclegan",
    "architecture.generator.features=4",
    "architecture.generator.num_blocks=1",
    "architecture.discriminator.features=4",
    "data.num_samples=64",
    "data.num_val_samples=8",
    "data.val_batch_size=4",
    "data.batch_size=2",
]


def cyclegan_overrides(steps: int = 4) -> list[str]:
    keep = [o for o in tiny_overrides(steps=steps) if not o.startswith(("architecture", "data.batch_size"))]
    return [*CYCLEGAN_TINY, *keep]


STARGAN_TINY = [
    "model=stargan",
    "architecture.generator.features=4",
    "architecture.generator.num_blocks=1",
    "architecture.discriminator.features=4",
    "data.num_samples=128",
    "data.num_val_samples=16",
    "data.val_batch_size=8",
    "data.batch_size=2",
]


def stargan_overrides(steps: int = 4) -> list[str]:
    keep = [o for o in tiny_overrides(steps=steps) if not o.startswith(("architecture", "data.batch_size"))]
    return [*STARGAN_TINY, *keep]


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
    steps (`fit_model`). Returns (trainer, model)."""
    from hydra.utils import instantiate
    from lightning import seed_everything

    from litgan.models.build import build_model

    seed_everything(cfg.seed)  # the nets' initial weights
    datamodule = instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    options = dict(max_steps=cfg.trainer.max_steps) | trainer_options
    return fit_model(model, datamodule, callbacks, ckpt_path, **options), model


def fit_model(model, datamodule, callbacks=(), ckpt_path=None, **trainer_options):
    """Train a built (and perhaps altered) model with no logger, checkpoints, validation or
    progress bar; `trainer_options` go to the Trainer (e.g. max_steps, precision). Returns the trainer."""
    from lightning import Trainer

    options = dict(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                   enable_model_summary=False, limit_val_batches=0)  # fmt: skip
    trainer = Trainer(callbacks=list(callbacks), **(options | trainer_options))
    trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
    return trainer


class StraightAndResumed(NamedTuple):
    straight: Any  # the model
    straight_trainer: Any
    resumed: Any
    resumed_trainer: Any


def straight_and_resumed(compose_config, overrides: list[str], steps: int, checkpoint_dir: Path) -> StraightAndResumed:
    """Train `steps` steps in one go, and again as steps/2, checkpoint, resume to `steps`."""
    from lightning.pytorch.callbacks import ModelCheckpoint

    cfg = compose_config(overrides)
    straight_trainer, straight = fit(cfg, max_steps=steps)
    half = ModelCheckpoint(dirpath=checkpoint_dir, every_n_train_steps=steps // 2, filename="half")
    fit(cfg, [half], max_steps=steps // 2, enable_checkpointing=True)
    resumed_trainer, resumed = fit(cfg, ckpt_path=str(checkpoint_dir / "half.ckpt"), max_steps=steps)
    return StraightAndResumed(straight, straight_trainer, resumed, resumed_trainer)


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


def write_celeba(root, n=6):
    rng = np.random.default_rng(0)
    (root / "img_align_celeba").mkdir(parents=True)
    names = ["5_o_Clock_Shadow", "Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young"]
    lines = [str(n), " ".join(names)]
    for i in range(n):
        file = f"{i:06d}.jpg"
        Image.fromarray(rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)).save(root / "img_align_celeba" / file)
        lines.append(file + "  " + " ".join("1" if (i + j) % 2 else "-1" for j in range(len(names))))
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")


# --- W&B's offline run files ---

BLOCK, RECORD_HEADER = 32768, 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path: Path):
    data = path.read_bytes()
    if not data:  # the header is not written yet
        return
    assert data[:4] == b":W&B", f"{path} is not a W&B run file"
    position, pending = 7, b""
    while position + RECORD_HEADER <= len(data):
        left_in_block = BLOCK - position % BLOCK
        if left_in_block < RECORD_HEADER:  # block trailer
            position += left_in_block
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + RECORD_HEADER])
        if kind == 0:  # zero padding to the end of the block
            position += left_in_block
            continue
        chunk = data[position + RECORD_HEADER : position + RECORD_HEADER + length]
        position += RECORD_HEADER + length
        pending = chunk if kind in (FULL, FIRST) else pending + chunk
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            yield record


def _items(items) -> dict:
    return {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in items}


@dataclass
class OfflineRun:
    """One offline run folder: its id, name, group, tags, config, history rows, summary, exit
    code and logged artifacts."""

    path: Path
    id: str = ""
    name: str = ""
    group: str = ""
    tags: list[str] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    exit_code: int | None = None
    artifacts: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, folder: Path) -> "OfflineRun":
        (run_file,) = folder.glob("run-*.wandb")
        run = cls(folder)
        for record in records(run_file):
            kind = record.WhichOneof("record_type")
            if kind == "run":
                run.id, run.name, run.group = record.run.run_id, record.run.display_name, record.run.run_group
                run.tags = list(record.run.tags)
                run.config.update(_items(record.run.config.update))
            elif kind == "config":
                run.config.update(_items(record.config.update))
            elif kind == "history":
                run.history.append(_items(record.history.item))
            elif kind == "summary":
                run.summary.update(_items(record.summary.update))
            elif kind == "exit":
                run.exit_code = record.exit.exit_code
            elif kind == "artifact":
                run.artifacts.append(record.artifact.name)
        return run

    def steps(self, key: str) -> list[int]:
        """`_step` of every history row that holds `key`."""
        return [row["_step"] for row in self.history if key in row]


def finished_run(folder: Path, timeout_s: float = 30.0) -> OfflineRun:
    """The run in `folder` once its exit record is on disk. `run.finish()` returns when the run
    has ended, but wandb-core writes its buffered records to the file when it closes the stream,
    which can be a moment later: reading at once has given an empty file."""
    deadline = time.monotonic() + timeout_s
    while (run := OfflineRun.read(folder)).exit_code is None and time.monotonic() < deadline:
        time.sleep(0.1)
    return run


def offline_runs(output_dir: Path) -> list[OfflineRun]:
    """Every W&B run written under a run folder, oldest first."""
    return [finished_run(folder) for folder in sorted(Path(output_dir).glob("wandb/offline-run-*"))]
