"""Reading litgan checkpoints: every failure names the file and the reason, and a resumed run is
compared with the config its checkpoint was trained with."""

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import torch
from omegaconf import DictConfig, OmegaConf

from litgan.utils.errors import UserError

# what a checkpoint's weights and training state depend on; trainer, callbacks, loggers and
# paths may change between the parts of a run (more steps, another logger, a moved folder)
RESUMED_GROUPS = ("model", "architecture", "loss", "data")


class CheckpointError(UserError, ValueError):
    """A checkpoint that cannot be read or resumed."""


def read_checkpoint(path: str | Path, mmap: bool = False) -> dict[str, Any]:
    """A litgan checkpoint's contents (`mmap`: tensors stay on disk until used)."""
    path = Path(path)
    if path.is_dir():
        found = sorted(path.rglob("*.ckpt"), key=lambda file: (file.name != "last.ckpt", file))  # last.ckpt first
        example = found[0] if found else path / "checkpoints" / "last.ckpt"
        raise CheckpointError(f"{path.resolve()} is a directory: pass a checkpoint file, e.g. ckpt_path={example}.")
    if not path.is_file():
        raise CheckpointError(f"Checkpoint {path.resolve()} does not exist.")
    try:
        # our checkpoints hold loop and RNG state besides tensors, hence weights_only=False
        checkpoint = torch.load(path, map_location="cpu", weights_only=False, mmap=mmap)
    except Exception as error:  # noqa: BLE001 - a foreign or damaged file fails in many ways; all mean the same
        if is_truncated_zip(path):
            raise CheckpointError(
                f"{path.resolve()} is truncated or incomplete (a save or copy that did not finish): resume from "
                "an earlier checkpoint, or copy the file again."
            ) from error
        raise CheckpointError(
            f"{path.resolve()} is not a litgan checkpoint: PyTorch cannot read it ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else 'no detail'})."
        ) from error
    if not isinstance(checkpoint, dict) or "run_config" not in checkpoint.get("hyper_parameters", {}):
        raise CheckpointError(f"{path.resolve()} holds no training config: it was not written by litgan's train().")
    return checkpoint


def is_truncated_zip(path: Path) -> bool:
    """Whether `path` begins as torch.save's zip archive but lacks the directory written at its end."""
    with open(path, "rb") as file:
        return file.read(4) == b"PK\x03\x04" and not zipfile.is_zipfile(path)


def run_config(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The config (unresolved) the checkpoint's run was trained with."""
    return checkpoint["hyper_parameters"]["run_config"]


class Change(NamedTuple):
    key: str
    before: Any
    after: Any

    def __str__(self) -> str:
        return f"{self.key}: {self.before} -> {self.after}"

    @property
    def reshapes_the_model(self) -> bool:
        """Whether the checkpoint's weights or optimiser state cannot fit the changed model: another
        family, net, optimiser or scheduler class, image shape, spectral norm, an EMA generator, LeCam's
        anchors or projection conditioning added or removed. (A loss has no weights: another loss is a
        setting.)"""
        return (
            self.key.startswith("architecture.")
            or (self.key.startswith("model.") and self.key.endswith("._target_"))
            or self.key in ("model.spectral_norm", "model.conditioning", "data.image_size", "data.channels")
            or (self.key == "model.ema_decay" and any(value in (None, UNSET) for value in (self.before, self.after)))
            or (self.key == "model.lecam_weight" and any(value in (0, UNSET) for value in (self.before, self.after)))
        )


UNSET = "<unset>"


def config_changes(stored: dict[str, Any], cfg: DictConfig, groups: tuple[str, ...] = RESUMED_GROUPS) -> list[Change]:
    """Every key of `groups` whose value in `cfg` differs from the checkpoint's."""
    current = OmegaConf.to_container(cfg, resolve=False)
    changes = []
    for group in groups:
        before, now = dict(flatten(stored.get(group), group)), dict(flatten(current.get(group), group))
        for key in sorted(before.keys() | now.keys()):
            if before.get(key, UNSET) != now.get(key, UNSET):
                changes.append(Change(key, before.get(key, UNSET), now.get(key, UNSET)))
    return changes


def flatten(node: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from flatten(value, f"{prefix}.{key}")
    else:
        yield prefix, node
