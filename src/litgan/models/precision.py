"""fp16 mixed precision's gradient scaler, as the training passes and the finite check need it."""

import torch
from lightning import Trainer
from lightning.pytorch.plugins.precision import MixedPrecision
from torch import Tensor

from litgan.utils.errors import TrainingDiverged


def gradient_scaler(trainer: Trainer | None) -> torch.amp.GradScaler | None:
    """The loss scaler of fp16 mixed precision; None under any other precision."""
    precision = trainer.precision_plugin if trainer is not None else None
    scaler = precision.scaler if isinstance(precision, MixedPrecision) else None
    return scaler if scaler is not None and scaler.is_enabled() else None


def loss_scale(scaler: torch.amp.GradScaler | None, device: torch.device) -> Tensor | None:
    """The scaler's scale as a device tensor (reading it as a number, get_scale, waits for the
    device); None without a scaler."""
    return scaler.scale(torch.ones((), device=device)) if scaler is not None else None


def check_finite(losses: dict[str, Tensor], scaler: torch.amp.GradScaler | None, step: int) -> None:
    """Each call waits for the device, so it is made on logging steps only. Under fp16 a
    non-finite loss is how the gradient scaler learns that its scale is too large: it skips that
    update and halves the scale. Only once the scale has fallen below 1 has every update for a
    while been skipped, and the run has diverged."""
    bad = {name: value.item() for name, value in losses.items() if not torch.isfinite(value)}
    if bad and (scaler is None or scaler.get_scale() < 1.0):
        raise TrainingDiverged(
            f"Training diverged: {bad} at generator step {step}; the checkpoints saved so far are "
            "kept. Lower the learning rate or check the loss/penalty settings."
        )
