"""Generated 2-D distributions, the standard testbed for mode collapse (Metz et al. 2017,
VEEGAN, PacGAN, WGAN-GP's toy experiments)."""

import math

import numpy as np
import torch
from sklearn.datasets import make_swiss_roll
from torch import Tensor

from litgan.data.base import InMemoryDataModule
from litgan.utils.errors import ConfigError


def ring_modes(num_modes: int = 8, radius: float = 1.0) -> Tensor:
    angles = torch.arange(num_modes, dtype=torch.float64) * (2 * math.pi / num_modes)
    return (radius * torch.stack([angles.cos(), angles.sin()], dim=1)).float()


def grid_modes(side: int = 5, spacing: float = 2.0) -> Tensor:
    ticks = (torch.arange(side) - (side - 1) / 2) * spacing  # {-4, -2, 0, 2, 4} for 5 x 2.0
    return torch.cartesian_prod(ticks, ticks).float()


class ToyDataModule(InMemoryDataModule):
    """`distribution`: 'ring' (8 Gaussians on the unit circle, sigma 0.01), 'grid' (25 Gaussians
    on {-4,-2,0,2,4}^2, sigma 0.05) or 'swissroll' (sklearn's, noise 0.25, scaled by 1/7.5).

    The points are generated once from `data_seed`, so every run and every sweep trial sees the
    same dataset; `seed` only orders the batches."""

    data_shape = (2,)

    def __init__(
        self,
        distribution: str = "ring",
        num_samples: int = 100_000,
        num_val_samples: int = 2_500,
        std: float | None = None,
        data_seed: int = 0,
        batch_size: int = 256,
        val_batch_size: int = 500,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size, val_batch_size, seed)
        if distribution == "ring":
            self.modes, default_std = ring_modes(), 0.01
        elif distribution == "grid":
            self.modes, default_std = grid_modes(), 0.05
        elif distribution == "swissroll":
            self.modes, default_std = None, 0.25
        else:
            raise ConfigError(f"Unknown toy distribution {distribution!r}: choose 'ring', 'grid' or 'swissroll'.")
        self.distribution = distribution
        self.std = default_std if std is None else std
        self.num_samples, self.num_val_samples = num_samples, num_val_samples
        self.data_seed = data_seed

    def sample(self, n: int, seed: int) -> Tensor:
        if self.modes is None:
            points, _ = make_swiss_roll(n, noise=self.std, random_state=seed)
            return torch.from_numpy(points[:, [0, 2]] / 7.5).float()
        rng = np.random.default_rng(seed)
        which = rng.integers(len(self.modes), size=n)
        noise = rng.normal(scale=self.std, size=(n, 2))
        return self.modes[which] + torch.from_numpy(noise).float()

    def make_split(self, split: str) -> tuple[Tensor, ...]:
        if split == "train":
            return (self.sample(self.num_samples, self.data_seed),)
        return (self.sample(self.num_val_samples, self.data_seed + 1),)
