"""Reading litgan checkpoints: every failure names the file and the reason, and a resumed run is
compared with the config its checkpoint was trained with."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

# what a checkpoint's weights and training state depend on; trainer, callbacks, loggers and
# paths may change between the parts of a run (more steps, another logger, a moved folder)
RESUMED_GROUPS = ("model", "architecture", "loss", "data")


class CheckpointError(ValueError):
    pass


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
        raise CheckpointError(
            f"{path.resolve()} is not a litgan checkpoint: PyTorch cannot read it ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else 'no detail'})."
        ) from error
    if not isinstance(checkpoint, dict) or "run_config" not in checkpoint.get("hyper_parameters", {}):
        raise CheckpointError(f"{path.resolve()} holds no training config: it was not written by litgan's train().")
    return checkpoint


def run_config(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The config (unresolved) the checkpoint's run was trained with."""
    return checkpoint["hyper_parameters"]["run_config"]


def config_changes(stored: dict[str, Any], cfg: DictConfig, groups: tuple[str, ...] = RESUMED_GROUPS) -> list[str]:
    """`key: checkpoint value -> current value` for every key of `groups` that differs."""
    current = OmegaConf.to_container(cfg, resolve=False)
    changes = []
    for group in groups:
        before, now = dict(flatten(stored.get(group), group)), dict(flatten(current.get(group), group))
        for key in sorted(before.keys() | now.keys()):
            if before.get(key, "<unset>") != now.get(key, "<unset>"):
                changes.append(f"{key}: {before.get(key, '<unset>')} -> {now.get(key, '<unset>')}")
    return changes


def flatten(node: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from flatten(value, f"{prefix}.{key}")
    else:
        yield prefix, node
