"""Differentiable augmentation (DiffAugment, Zhao et al. 2020): the discriminator sees every image,
real or generated, through the same random colour, translation and cutout transforms, and the
generator's gradients flow back through them, so that D cannot memorise a small dataset.

The transforms are those of the paper's reference code (DiffAugment_pytorch.py); their random
numbers come from the model's `ShardedGenerator`, drawn for the global batch, so N processes
augment exactly as one process does."""

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from litgan.utils.errors import ConfigError
from litgan.utils.random import ShardedGenerator


def brightness(x: Tensor, random: ShardedGenerator) -> Tensor:
    return x + (random.rand(len(x), 1, 1, 1).to(x.dtype) - 0.5)


def saturation(x: Tensor, random: ShardedGenerator) -> Tensor:
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (random.rand(len(x), 1, 1, 1).to(x.dtype) * 2) + mean


def contrast(x: Tensor, random: ShardedGenerator) -> Tensor:
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (random.rand(len(x), 1, 1, 1).to(x.dtype) + 0.5) + mean


def translation(x: Tensor, random: ShardedGenerator, ratio: float = 0.125) -> Tensor:
    """Shift by up to `ratio` of the side, filling with zeros (grey in [-1, 1])."""
    n, _, height, width = x.shape
    shift_y, shift_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    dy = (random.randint(2 * shift_y + 1, n) - shift_y).view(n, 1, 1)
    dx = (random.randint(2 * shift_x + 1, n) - shift_x).view(n, 1, 1)
    batch, rows, columns = torch.meshgrid(
        torch.arange(n, device=x.device),
        torch.arange(height, device=x.device),
        torch.arange(width, device=x.device),
        indexing="ij",
    )
    rows = torch.clamp(rows + dy + 1, 0, height + 1)
    columns = torch.clamp(columns + dx + 1, 0, width + 1)
    padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)
    return padded[batch, rows, columns].permute(0, 3, 1, 2)


def cutout(x: Tensor, random: ShardedGenerator, ratio: float = 0.5) -> Tensor:
    """Zero a square of `ratio` of the side at a random place (partly outside the image at the edges)."""
    n, _, height, width = x.shape
    size_y, size_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    offset_y = random.randint(height + (1 - size_y % 2), n).view(n, 1, 1)
    offset_x = random.randint(width + (1 - size_x % 2), n).view(n, 1, 1)
    batch, rows, columns = torch.meshgrid(
        torch.arange(n, device=x.device),
        torch.arange(size_y, device=x.device),
        torch.arange(size_x, device=x.device),
        indexing="ij",
    )
    rows = torch.clamp(rows + offset_y - size_y // 2, 0, height - 1)
    columns = torch.clamp(columns + offset_x - size_x // 2, 0, width - 1)
    mask = torch.ones(n, height, width, dtype=x.dtype, device=x.device)
    mask[batch, rows, columns] = 0
    return x * mask.unsqueeze(1)


TRANSFORMS: dict[str, list[Callable[[Tensor, ShardedGenerator], Tensor]]] = {
    "color": [brightness, saturation, contrast],
    "translation": [translation],
    "cutout": [cutout],
}


def diff_augment(x: Tensor, policy: Sequence[str], random: ShardedGenerator) -> Tensor:
    """`policy`: names of `TRANSFORMS`, applied in that order."""
    for name in policy:
        for transform in TRANSFORMS[name]:
            x = transform(x, random)
    return x


class AugmentedDiscriminator(nn.Module):
    """D(T(x), ...): the wrapped discriminator on augmented images; further inputs (a class) pass
    through. `random` returns the model's `ShardedGenerator` (created once the device is known)."""

    def __init__(self, discriminator: nn.Module, policy: Sequence[str], random: Callable[[], ShardedGenerator]) -> None:
        super().__init__()
        unknown = [name for name in policy if name not in TRANSFORMS]
        if unknown or not policy:
            raise ConfigError(f"model.augment={list(policy)}: unknown {unknown}; choose from [{','.join(TRANSFORMS)}].")
        self.net, self.policy, self.random = discriminator, list(policy), random

    def forward(self, images: Tensor, *conditions: Tensor) -> Tensor:
        return self.net(diff_augment(images, self.policy, self.random()), *conditions)
