"""What every litgan datamodule provides: the sample shape the nets are built for, training
batches holding `batches_per_step` minibatches (one per critic update), and validation data."""

import enum
import functools
import hashlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import torch
from lightning import LightningDataModule
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset

from litgan.data.in_memory import InMemoryBatches
from litgan.utils.errors import DataError


class TrainingData(enum.Enum):
    """What a model trains on (its `trains_on`), matched against what a datamodule `provides`."""

    SAMPLES = "one dataset"
    UNPAIRED_DOMAINS = "two unpaired image domains"
    DOMAIN_LABELS = "images labelled with attribute domains"


class GANDataModule(LightningDataModule):
    data_shape: tuple[int, ...]
    num_classes: int | None = None
    # declared per class, so that refusals can list the data that would do
    labelled: ClassVar[bool] = False  # class labels (num_classes), as conditional models need
    provides_data: ClassVar[frozenset[TrainingData]] = frozenset({TrainingData.SAMPLES})
    # labels over attribute domains (StarGAN) as group sizes: 1 = a binary attribute, k > 1 = k
    # exclusive values, one-hot
    domain_groups: list[int] | None = None
    # mixtures of Gaussians: the mode centres, for the mode-coverage measures (None: no modes)
    modes: Tensor | None = None
    # embedded translation tasks whose scenes' attributes are known: they implement
    # `expected_attributes(batch, outputs)`, which the translation measures read
    knows_attributes: bool = False

    @property
    def class_names(self) -> list[str]:
        """What each class is, for pictures: its number, unless the data names it."""
        return [str(label) for label in range(self.num_classes or 0)]

    def __init__(self, batch_size: int, val_batch_size: int = 500, seed: int = 0) -> None:
        super().__init__()
        self.batch_size = batch_size
        # minibatches per training batch, one per critic update: the model's n_critic, which
        # models/build.build_model hands over (its one source)
        self.batches_per_step = 1
        self.val_batch_size = val_batch_size
        self.seed = seed

    @classmethod
    def provides(cls, kind: TrainingData) -> bool:
        return kind in cls.provides_data

    def fingerprint(self, split: str) -> str:
        """A key that changes whenever the samples of `split` change (for cached reference statistics)."""
        raise NotImplementedError

    def real_batches(self, split: str, batch_size: int, limit: int | None = None) -> Iterator[Tensor]:
        """Real samples of `split` in order, `limit` at most, without labels."""
        raise NotImplementedError

    def _process_share(self) -> tuple[int, int]:
        trainer = self.trainer
        return (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)

    def _training_device(self) -> torch.device:
        return self.trainer.strategy.root_device if self.trainer is not None else torch.device("cpu")


class InMemoryDataModule(GANDataModule):
    """Datasets small enough to be tensors: generated 2-D data, digits, procedural images.

    Subclasses implement `make_split(split)` returning a tuple of tensors (samples first,
    labels second when there are labels)."""

    def make_split(self, split: str) -> tuple[Tensor, ...]:
        raise NotImplementedError

    @functools.cached_property
    def train_tensors(self) -> tuple[Tensor, ...]:
        return self.make_split("train")

    @functools.cached_property
    def val_tensors(self) -> tuple[Tensor, ...]:
        return self.make_split("val")

    def setup(self, stage: str | None = None) -> None:
        for split in ("train", "val"):
            self.split_tensors(split)

    def split_tensors(self, split: str) -> tuple[Tensor, ...]:
        return self.train_tensors if split == "train" else self.val_tensors

    def fingerprint(self, split: str) -> str:
        digest = hashlib.sha256(type(self).__name__.encode())
        for tensor in self.split_tensors(split):
            digest.update(tensor.contiguous().numpy().tobytes())
        return digest.hexdigest()

    def real_batches(self, split: str, batch_size: int, limit: int | None = None) -> Iterator[Tensor]:
        yield from self.split_tensors(split)[0][:limit].split(batch_size)

    def train_dataloader(self) -> InMemoryBatches:
        rank, world = self._process_share()
        return InMemoryBatches(
            self.train_tensors, self.batch_size, self.batches_per_step, self.seed, rank, world, self._training_device()
        )

    def val_dataloader(self) -> DataLoader:
        return DataLoader(TensorDataset(*self.val_tensors), batch_size=self.val_batch_size)


class FileDataModule(GANDataModule):
    """Datasets read from disk through a torch Dataset and a DataLoader with workers."""

    def __init__(
        self,
        batch_size: int,
        val_batch_size: int = 500,
        seed: int = 0,
        num_workers: int = 2,
        num_val_samples: int = 500,
    ) -> None:
        super().__init__(batch_size, val_batch_size, seed)
        self.num_workers = num_workers
        # each validation reads the first `num_val_samples` held-out images (by path), however large
        # the held-out split: its cost does not grow with the dataset (the metrics draw their own)
        self.num_val_samples = num_val_samples

    def make_dataset(self, split: str) -> Dataset:
        raise NotImplementedError

    @functools.cached_property
    def train_set(self) -> Dataset:
        return self.make_dataset("train")

    @functools.cached_property
    def val_set(self) -> Dataset:
        return self.make_dataset("val")

    def setup(self, stage: str | None = None) -> None:
        for split in ("train", "val"):
            self.dataset(split)  # a missing or damaged dataset is reported before training starts

    def dataset(self, split: str) -> Dataset:
        return self.train_set if split == "train" else self.val_set

    def data_files(self, split: str) -> Sequence[str | Path]:
        """The files the split is read from; their names, sizes and times make the fingerprint."""
        raise NotImplementedError

    def fingerprint(self, split: str) -> str:
        digest = hashlib.sha256(f"{type(self).__name__}:{self.data_shape}:{split}".encode())
        for path in sorted(map(os.fspath, self.data_files(split))):
            stat = os.stat(path)
            digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        return digest.hexdigest()

    def real_batches(self, split: str, batch_size: int, limit: int | None = None) -> Iterator[Tensor]:
        """Every image of `split` in order or, with a `limit` below its size, a seeded random sample
        of `limit` (in order): the first `limit` of a folder sorted by path could be one class."""
        dataset = self.dataset(split)
        if limit is not None and limit < len(dataset):
            chosen = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))[:limit]
            dataset = Subset(dataset, chosen.sort().values.tolist())
        for batch in self._loader(dataset, batch_size, shuffle=False):
            yield batch[0]

    def _loader(self, dataset: Dataset, batch_size: int, shuffle: bool) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=shuffle,
            drop_last=shuffle,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            generator=torch.Generator().manual_seed(self.seed) if shuffle else None,
        )

    def train_dataloader(self) -> DataLoader:
        step_size = self.batch_size * self.batches_per_step  # images one generator step takes, per process
        _, world_size = self._process_share()
        if len(self.train_set) < step_size * world_size:
            fits = len(self.train_set) // (self.batches_per_step * world_size)
            raise DataError(
                f"{type(self).__name__} has {len(self.train_set)} training images, but one generator step takes "
                f"data.batch_size x n_critic = {self.batch_size} x {self.batches_per_step} = {step_size} images"
                + (f" in each of {world_size} processes" if world_size > 1 else "")
                + (f": set data.batch_size={fits} or less, or add images." if fits else ": add images.")
            )
        return self._loader(self.train_set, step_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        validated = Subset(self.val_set, range(min(self.num_val_samples, len(self.val_set))))
        return self._loader(validated, self.val_batch_size, shuffle=False)


def to_unit_range(images: Tensor, max_value: float) -> Tensor:
    """Pixel values in [0, max_value] -> [-1, 1], the range the generators' tanh produces."""
    return images / max_value * 2 - 1


def shape_of(channels: int, image_size: int) -> tuple[int, int, int]:
    return (channels, image_size, image_size)
