"""Building the two optimisers (with torch's fast implementations where they exist) and applying
changed settings to optimisers restored from a checkpoint."""

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from lightning.pytorch.utilities import rank_zero_info
from torch import nn
from torch.optim import Optimizer

# torch optimisers with a fused implementation on the GPU and the CPU (one kernel updates every
# tensor), and those with a multi-tensor one (one call per operation for all tensors)
FUSED_OPTIMIZERS = (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD)
FUSED_DEVICES = ("cuda", "cpu")
FOREACH_OPTIMIZERS = (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD, torch.optim.RMSprop)


def make_optimizer(
    make: Callable[..., Optimizer], parameters: Iterator[nn.Parameter], device: torch.device
) -> Optimizer:
    """torch's Adam, AdamW and SGD update all tensors in one fused kernel on the GPU and the CPU
    (whose numbers differ from torch's default loop over tensors in the last bits); RMSprop, and
    they on other devices, use their multi-tensor implementation. A config that sets `fused` or
    `foreach` is obeyed."""
    if not isinstance(make, functools.partial) or {"fused", "foreach"} & make.keywords.keys():
        return make(parameters)
    if make.func in FUSED_OPTIMIZERS and device.type in FUSED_DEVICES:
        return make(parameters, fused=True)
    if make.func in FOREACH_OPTIMIZERS:
        return make(parameters, foreach=True)
    return make(parameters)


def apply_settings(role: str, optimizer: Optimizer, make: Callable[..., Optimizer], schedulers: list[Any]) -> None:
    """A run resumed with other optimiser settings (`allow_resume_changes`) trains with them,
    where the restored optimiser state would keep the checkpoint's. A new learning rate keeps
    the schedule's progress: it replaces the base rate that a scheduler scales."""
    settings = make.keywords if isinstance(make, functools.partial) else {}
    for group in optimizer.param_groups:
        for key, value in settings.items():
            value = tuple(value) if isinstance(value, Sequence) and not isinstance(value, str) else value
            if key == "lr" and group.get("initial_lr", group["lr"]) != value:
                base = group.get("initial_lr", group["lr"])
                rank_zero_info(f"model.{role}.lr: {base:g} in the checkpoint, {value:g} from now on.")
                group["lr"] = value if group["lr"] == base else group["lr"] * value / base
                if "initial_lr" in group:
                    group["initial_lr"] = value
            elif key != "lr" and key in group and group[key] != value:
                rank_zero_info(f"model.{role}.{key}: {group[key]} in the checkpoint, {value} from now on.")
                group[key] = value
    for scheduler in schedulers:
        if scheduler.optimizer is optimizer:
            scheduler.base_lrs = [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]
