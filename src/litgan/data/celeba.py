"""CelebA as StarGAN uses it: aligned faces, center-cropped to 178 px and resized, with a chosen
list of binary attributes from `list_attr_celeba.txt` as the domain labels."""

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset
from torchvision import transforms

from litgan.data.base import FileDataModule, TrainingData, shape_of
from litgan.data.vision import check_cache, load_image, refuse_unreadable_images
from litgan.utils.errors import ConfigError, MissingFile

# StarGAN's choice: hair colour is one domain group (exclusive values), gender and age are bits
DEFAULT_ATTRIBUTES = (("Black_Hair", "Blond_Hair", "Brown_Hair"), "Male", "Young")


def read_attributes(path: Path, selected: tuple[str, ...]) -> tuple[list[str], Tensor]:
    """File names and a (n, len(selected)) 0/1 tensor from CelebA's attribute file."""
    if not path.is_file():
        raise MissingFile(f"CelebA attribute file {path.resolve()} is missing: put list_attr_celeba.txt there.")
    lines = path.read_text().splitlines()
    names = lines[1].split()
    unknown = [a for a in selected if a not in names]
    if unknown:
        raise ConfigError(f"Unknown CelebA attributes {unknown}; the file has {names}.")
    columns = [names.index(a) for a in selected]
    files, values = [], []
    for line in lines[2:]:
        fields = line.split()
        if fields:
            files.append(fields[0])
            values.append([int(fields[1 + c]) == 1 for c in columns])
    return files, torch.tensor(values, dtype=torch.float32)


class CelebAAttributes(Dataset):
    def __init__(self, folder: Path, files: list[str], attributes: Tensor, image_size: int, crop: int) -> None:
        self.folder, self.files, self.attributes = folder, files, attributes
        self.transform = transforms.Compose(
            [
                transforms.CenterCrop(crop),
                transforms.Resize(image_size),
                transforms.ToTensor(),
                transforms.Normalize([0.5] * 3, [0.5] * 3),
            ]
        )

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return load_image(self.folder / self.files[index], self.transform), self.attributes[index]


class CelebADataModule(FileDataModule):
    """root/img_align_celeba/*.jpg + root/list_attr_celeba.txt; the last `val_count` images
    (StarGAN holds out 2,000) form the validation split. Batches: (images, attributes in {0, 1}).

    `attributes`: names, or lists of names that exclude each other (hair colours), which StarGAN
    translates to as one-hot groups."""

    provides_data = frozenset({TrainingData.SAMPLES, TrainingData.DOMAIN_LABELS})

    def __init__(
        self,
        root: str,
        attributes: Sequence[str | Sequence[str]] = DEFAULT_ATTRIBUTES,
        image_size: int = 128,
        crop: int = 178,
        val_count: int = 2000,
        batch_size: int = 16,
        val_batch_size: int = 64,
        seed: int = 0,
        num_workers: int = 2,
        num_val_samples: int = 500,
        cache_dir: str | None = None,
    ) -> None:
        super().__init__(batch_size, val_batch_size, seed, num_workers, num_val_samples)
        self.cache_dir = cache_dir
        groups = [[entry] if isinstance(entry, str) else list(entry) for entry in attributes]
        self.root, self.crop, self.val_count = Path(root), crop, val_count
        self.attributes = tuple(name for group in groups for name in group)
        self.domain_groups = [len(group) for group in groups]
        self.data_shape = shape_of(3, image_size)

    def data_files(self, split: str) -> list[Path]:
        return [self.root / "list_attr_celeba.txt", *sorted((self.root / "img_align_celeba").glob("*.jpg"))]

    def make_dataset(self, split: str) -> Dataset:
        files, values = read_attributes(self.root / "list_attr_celeba.txt", self.attributes)
        folder = self.root / "img_align_celeba"
        refuse_unreadable_images([folder / name for name in files], check_cache(self.cache_dir, folder))
        cut = max(0, len(files) - self.val_count)
        chosen = slice(0, cut) if split == "train" else slice(cut, None)
        return CelebAAttributes(
            self.root / "img_align_celeba", files[chosen], values[chosen], self.data_shape[1], self.crop
        )
