"""How varied a conditional generator's samples of one class are: class accuracy alone rewards a
generator that draws one template per class."""

import torch


def within_class_std(images: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean over classes of the per-pixel standard deviation among a class's images: 0 when a class is one image."""
    return torch.stack([images[labels == c].std(0).mean() for c in labels.unique()]).mean().item()
