"""Unpaired two-domain data for image-to-image translation (CycleGAN): batches (a, b, ...)."""

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset

from litgan.data.base import FileDataModule, InMemoryDataModule, TrainingData, shape_of
from litgan.data.shapes import ATTRIBUTES, make_scenes
from litgan.data.vision import ImageFolderDataset, check_cache, list_images, refuse_unreadable_images
from litgan.utils.errors import MissingFile


class UnpairedShapesDataModule(InMemoryDataModule):
    """Domain A: shape scenes on a dark background; domain B: on a light one. The two are drawn
    independently (unpaired); content (shape, colour, size, position) must survive translation.
    Batches: (a, b, attributes of a, attributes of b)."""

    provides_data = frozenset({TrainingData.UNPAIRED_DOMAINS})
    knows_attributes = True

    def __init__(
        self,
        num_samples: int = 5_000,
        num_val_samples: int = 500,
        image_size: int = 32,
        data_seed: int = 0,
        batch_size: int = 1,
        val_batch_size: int = 100,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size, val_batch_size, seed)
        self.num_samples, self.num_val_samples, self.image_size, self.data_seed = (
            num_samples,
            num_val_samples,
            image_size,
            data_seed,
        )
        self.data_shape = shape_of(3, image_size)

    def make_split(self, split: str) -> tuple[Tensor, ...]:
        n, seed = (self.num_samples, self.data_seed) if split == "train" else (self.num_val_samples, self.data_seed + 2)
        a, codes_a = make_scenes(n, seed, self.image_size, background="dark")
        b, codes_b = make_scenes(n, seed + 1, self.image_size, background="light")
        return a, b, codes_a, codes_b

    def expected_attributes(
        self, batch: Sequence[Tensor], outputs: dict[str, Tensor]
    ) -> tuple[Tensor, tuple[str, ...]]:
        """G(a) should show a's shape, colour and size on B's light background."""
        expected = batch[2].clone()
        expected[:, list(ATTRIBUTES).index("background")] = ATTRIBUTES["background"].index("light")
        return expected, ("background",)


class UnpairedFolders(Dataset):
    """Item i: (A[i mod |A|], B[perm(i) mod |B|]) with a fixed seeded permutation: unpaired, repeatable."""

    def __init__(self, files_a: list[Path], files_b: list[Path], channels: int, image_size: int, seed: int = 0) -> None:
        self.a = ImageFolderDataset(files_a, channels, image_size)
        self.b = ImageFolderDataset(files_b, channels, image_size)
        self.permutation = torch.randperm(
            max(len(files_a), len(files_b)), generator=torch.Generator().manual_seed(seed)
        )

    def __len__(self) -> int:
        return max(len(self.a), len(self.b))

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.a[index % len(self.a)][0], self.b[int(self.permutation[index]) % len(self.b)][0]


class UnpairedFolderDataModule(FileDataModule):
    """CycleGAN's layout: root/trainA, root/trainB, root/testA, root/testB (e.g. horse2zebra)."""

    provides_data = frozenset({TrainingData.UNPAIRED_DOMAINS})

    def __init__(
        self,
        root: str,
        channels: int = 3,
        image_size: int = 64,
        batch_size: int = 1,
        val_batch_size: int = 16,
        seed: int = 0,
        num_workers: int = 2,
        num_val_samples: int = 500,
        cache_dir: str | None = None,
    ) -> None:
        super().__init__(batch_size, val_batch_size, seed, num_workers, num_val_samples)
        self.root, self.cache_dir = root, cache_dir
        self.data_shape = shape_of(channels, image_size)

    def folders(self, split: str) -> tuple[Path, Path]:
        prefix = "train" if split == "train" else "test"
        if not Path(self.root).is_dir():
            raise MissingFile(
                f"Unpaired image folder {Path(self.root).resolve()} does not exist; set data.root to a folder holding "
                "trainA, trainB, testA and testB."
            )
        folders = Path(self.root, f"{prefix}A"), Path(self.root, f"{prefix}B")
        missing = [folder.name for folder in folders if not folder.is_dir()]
        if missing:
            raise MissingFile(
                f"data.root={self.root} has no {' or '.join(missing)} folder: unpaired data is laid out as CycleGAN's "
                "datasets are, root/trainA, root/trainB, root/testA and root/testB, one domain per letter."
            )
        return folders

    def data_files(self, split: str) -> list[Path]:
        return [f for files in self.domain_files(split) for f in files]

    def domain_files(self, split: str) -> tuple[list[Path], list[Path]]:
        files = tuple(list_images(folder) for folder in self.folders(split))
        for folder, domain in zip(self.folders(split), files):
            refuse_unreadable_images(domain, check_cache(self.cache_dir, folder))
        return files

    def make_dataset(self, split: str) -> Dataset:
        files_a, files_b = self.domain_files(split)
        return UnpairedFolders(files_a, files_b, self.data_shape[0], self.data_shape[1], self.seed)
