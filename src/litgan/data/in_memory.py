"""A training loader for datasets that fit in memory: no workers, no collation, one index
gather per batch on the training device, and a state Lightning saves in checkpoints so that
resuming mid-epoch continues with exactly the batches an uninterrupted run would have seen."""

from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor

from litgan.utils.random import ShardedGenerator


class InMemoryBatches:
    """Yields `len(self)` tuples of minibatches per epoch, drawn uniformly with replacement.

    Each batch holds `batch_size * batches_per_step` rows for this process, so that one
    training step can run all its critic updates (`batches_per_step = n_critic`) on fresh data.

    The tensors are copied to `device` once and the indices drawn there, so that a GPU run
    neither gathers on the CPU nor copies a batch per step.
    """

    def __init__(
        self,
        tensors: tuple[Tensor, ...],
        batch_size: int,
        batches_per_step: int = 1,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        device: torch.device | str = "cpu",
    ) -> None:
        self.tensors = tuple(t.to(device) for t in tensors)
        self.batch_size, self.batches_per_step = batch_size, batches_per_step
        self.num_batches = max(1, len(tensors[0]) // (batch_size * batches_per_step * world_size))
        self.indices = ShardedGenerator(seed, rank, world_size, device)
        self.position = 0  # batches already yielded in the current epoch

    def __len__(self) -> int:
        return self.num_batches

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        while self.position < self.num_batches:
            index = self.indices.randint(len(self.tensors[0]), self.batch_size, self.batches_per_step)
            self.position += 1
            yield tuple(t[index] for t in self.tensors)
        self.position = 0

    def state_dict(self) -> dict[str, Any]:
        return {"position": self.position, **self.indices.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.position = state["position"]
        self.indices.load_state_dict(state)
