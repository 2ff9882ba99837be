"""Adversarial losses and the penalties that keep a critic well behaved."""

from litgan.losses.adversarial import (
    AdversarialLoss,
    HingeLoss,
    LeastSquaresLoss,
    MinimaxLoss,
    NonSaturatingLoss,
    WassersteinLoss,
)
from litgan.losses.penalties import (
    LeCamAnchors,
    PathLengthTarget,
    clip_weights,
    gradient_penalty,
    path_lengths,
    r1_penalty,
)

__all__ = [
    "AdversarialLoss",
    "HingeLoss",
    "LeCamAnchors",
    "LeastSquaresLoss",
    "MinimaxLoss",
    "NonSaturatingLoss",
    "PathLengthTarget",
    "WassersteinLoss",
    "clip_weights",
    "gradient_penalty",
    "path_lengths",
    "r1_penalty",
]
