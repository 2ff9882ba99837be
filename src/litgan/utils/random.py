"""Randomness that does not depend on how many processes share a batch."""

from typing import Any

import torch
from torch import Tensor


class ShardedGenerator:
    """Draws the random numbers of the *global* batch from one seeded generator and keeps this
    process's share, as DistributedSampler does with its permutation.

    Every process holds the same generator state, so a run with N processes consumes exactly
    the numbers a single process would over the same global batch, and a checkpoint of one
    rank's state resumes them all.
    """

    def __init__(self, seed: int, rank: int = 0, world_size: int = 1, device: torch.device | str = "cpu") -> None:
        self.rank, self.world_size = rank, world_size
        self.device = torch.device(device)
        self.generator = torch.Generator(self.device).manual_seed(seed)

    def _share(self, draw: Tensor, batch_size: int) -> Tensor:
        if self.world_size == 1:  # the whole draw: a slice would be one more operator call per draw
            return draw
        return draw[self.rank * batch_size : (self.rank + 1) * batch_size]

    def randn(self, batch_size: int, *shape: int) -> Tensor:
        draw = torch.randn(self.world_size * batch_size, *shape, generator=self.generator, device=self.device)
        return self._share(draw, batch_size)

    def rand(self, batch_size: int, *shape: int) -> Tensor:
        draw = torch.rand(self.world_size * batch_size, *shape, generator=self.generator, device=self.device)
        return self._share(draw, batch_size)

    def randint(self, high: int, batch_size: int, groups: int = 1) -> Tensor:
        """`groups` consecutive global batches (e.g. one per critic update), each sharded, concatenated."""
        draw = torch.randint(
            high,
            (groups, self.world_size * batch_size),
            generator=self.generator,
            device=self.device,
        )
        return draw[:, self.rank * batch_size : (self.rank + 1) * batch_size].flatten()

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"].cpu())
