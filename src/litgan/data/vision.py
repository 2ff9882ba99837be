"""Image datasets read from disk: torchvision's MNIST / Fashion-MNIST / CIFAR-10 (never
downloaded at run time) and any folder of images."""

import functools
import hashlib
import json
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
from PIL import Image, UnidentifiedImageError
from torch import Tensor
from torch.utils.data import Dataset
from torchvision import datasets, transforms

from litgan.data.base import FileDataModule, shape_of
from litgan.utils.errors import ConfigError, DataError, MissingFile
from litgan.utils.files import atomic_write_text
from litgan.utils.progress import tracked

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")


class CIFAR10(datasets.CIFAR10):
    """torchvision's CIFAR-10 reader, accepting any well-formed batch files: the md5 check of
    the official archive would refuse copies re-packed for offline machines (and test files);
    a truncated or corrupt file still fails when unpickled."""

    def _check_integrity(self) -> bool:
        folder = Path(self.root, self.base_folder)
        return all(
            (folder / name).is_file() for name, _ in [*self.train_list, *self.test_list, (self.meta["filename"], "")]
        )

    def _load_meta(self) -> None:
        with open(Path(self.root, self.base_folder, self.meta["filename"]), "rb") as file:
            self.classes = pickle.load(file, encoding="latin1")[self.meta["key"]]
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}


TORCHVISION_SETS = {
    # name: (class, channels, where torchvision looks for the files under root)
    "mnist": (datasets.MNIST, 1, "MNIST/raw"),
    "fashion_mnist": (datasets.FashionMNIST, 1, "FashionMNIST/raw"),
    "cifar10": (CIFAR10, 3, "cifar-10-batches-py"),
}


def to_rgb(image: Image.Image) -> Image.Image:
    return image.convert("RGB")


def image_transform(channels: int, image_size: int) -> transforms.Compose:
    return transforms.Compose(
        [
            transforms.Grayscale(1) if channels == 1 else transforms.Lambda(to_rgb),
            transforms.Resize(image_size),
            transforms.CenterCrop(image_size),
            transforms.ToTensor(),
            transforms.Normalize([0.5] * channels, [0.5] * channels),  # [0, 1] -> [-1, 1]
        ]
    )


class TorchvisionDataModule(FileDataModule):
    """`name`: mnist, fashion_mnist or cifar10, read from `root` as torchvision lays them out."""

    labelled = True

    def __init__(
        self,
        name: str,
        root: str,
        image_size: int = 32,
        batch_size: int = 64,
        val_batch_size: int = 500,
        seed: int = 0,
        num_workers: int = 2,
        num_val_samples: int = 500,
    ) -> None:
        super().__init__(batch_size, val_batch_size, seed, num_workers, num_val_samples)
        if name not in TORCHVISION_SETS:
            raise ConfigError(f"Unknown torchvision dataset {name!r}: choose one of {sorted(TORCHVISION_SETS)}.")
        self.name, self.root, self.image_size = name, root, image_size
        self.dataset_class, channels, self.subfolder = TORCHVISION_SETS[name]
        self.data_shape = shape_of(channels, image_size)
        self.num_classes = 10

    def data_files(self, split: str) -> list[Path]:
        return [p for p in Path(self.root, self.subfolder).glob("*") if p.is_file()]

    def make_dataset(self, split: str) -> Dataset:
        transform = image_transform(self.data_shape[0], self.image_size)
        try:
            return self.dataset_class(self.root, train=split == "train", transform=transform, download=False)
        except RuntimeError as error:  # torchvision's "Dataset not found or corrupted"
            raise MissingFile(
                f"{self.name} was not found under {Path(self.root, self.subfolder).resolve()}: this program never "
                f"downloads; on a machine with internet run `torchvision.datasets.{self.dataset_class.__name__}"
                f"('{self.root}', download=True)` and copy the resulting folder here."
            ) from error


class ImageFolderDataset(Dataset):
    """Every image file below `root` (any nesting, no labels), sorted by path."""

    def __init__(self, files: Sequence[str | Path], channels: int, image_size: int) -> None:
        self.files = files
        self.transform = image_transform(channels, image_size)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[Tensor]:
        return (load_image(self.files[index], self.transform),)


# modes of one channel with more than 8 bits, and the largest value of each (PNG's 16-bit grey
# opens as I;16 or I; TIFF's float as F, whose range is [0, 1])
WIDE_MODES = {"I;16": 65535, "I;16B": 65535, "I;16L": 65535, "I;16N": 65535, "I": 65535, "F": 1.0}


def eight_bit(image: Image.Image, path: str | Path) -> Image.Image:
    """A 16-bit or floating-point grey image scaled by its type's range to 8 bits, which the
    transforms assume (they would clip it to white or black); other modes as they are."""
    if image.mode not in WIDE_MODES:
        return image
    top = WIDE_MODES[image.mode]
    values = np.asarray(image, dtype=np.float64)
    if values.size and (values.min() < 0 or values.max() > top):
        raise DataError(
            f"Image {path} (mode {image.mode}) has values from {values.min():g} to {values.max():g}, outside the "
            f"range [0, {top:g}] its type is read in: save it as 8-bit or 16-bit PNG, or as a float image in [0, 1]."
        )
    return Image.fromarray(np.round(values / top * 255).astype(np.uint8), mode="L")


def load_image(path: str | Path, transform: Callable[[Image.Image], Tensor]) -> Tensor:
    """A transformed image, or an error naming the file that cannot be read."""
    try:
        with Image.open(path) as image:
            return transform(eight_bit(image, path))
    except (UnidentifiedImageError, OSError) as error:
        raise DataError(f"Cannot read image {path}: {error}. Remove or replace the file.") from error


def decode_error(path: str | Path) -> str | None:
    """Why PIL cannot decode `path` in full (a truncated JPEG opens and verifies, and fails only
    when its pixels are read), or None."""
    try:
        with Image.open(path) as image:
            eight_bit(image, path).load()
    except DataError as error:
        return str(error)
    except Exception as error:  # noqa: BLE001 - PIL reports damage through many exception types
        return f"{path} ({type(error).__name__}: {error})"
    return None


class CheckedImages(NamedTuple):
    """Where the images below `root` that passed `refuse_unreadable_images` are remembered: `file`,
    with their paths relative to `root` (an absolute path)."""

    file: Path
    root: str

    def key(self, path: str) -> str:
        prefix = self.root + os.sep
        return path[len(prefix) :] if path.startswith(prefix) else path


def check_cache(cache_dir: str | Path | None, root: str | Path) -> CheckedImages | None:
    """A file of the data caches (`paths.cache_dir`) per folder; None: nowhere, every run decodes
    every image."""
    if cache_dir is None:
        return None
    root = os.path.abspath(root)
    return CheckedImages(Path(cache_dir, f"checked-images-{hashlib.sha256(root.encode()).hexdigest()[:16]}.json"), root)


def refuse_unreadable_images(files: Sequence[str | Path], cache: CheckedImages | None = None) -> None:
    """Every image that cannot be decoded in full, named before training starts. Each file is
    decoded once: the files that passed are remembered in `cache` by path, size and modification
    time, so that a later run on the same folder only reads their sizes and times."""
    stored = cache is not None and cache.file.is_file()
    passed: dict[str, str] = json.loads(cache.file.read_text()) if stored else {}
    paths = list(map(os.fspath, files))
    names = [cache.key(path) for path in paths] if cache is not None else paths
    stamps = [file_stamp(path) for path in paths]
    unchecked = [index for index, (name, stamp) in enumerate(zip(names, stamps)) if passed.get(name) != stamp]
    unreadable = []
    for index in tracked(unchecked, "Checking images", long_from=1000):
        error = decode_error(paths[index])
        if error is None:
            passed[names[index]] = stamps[index]
        else:
            unreadable.append(error)
    if cache is not None and unchecked:
        atomic_write_text(cache.file, json.dumps(passed))
    if unreadable:
        raise DataError(
            f"{len(unreadable)} of {len(files)} images cannot be read; remove or replace them: " + "; ".join(unreadable)
        )


def file_stamp(path: str) -> str:
    """Size and modification time, as one string (a JSON file of 200,000 strings loads twice as
    fast as one of pairs)."""
    try:
        stat = os.stat(path)
    except OSError:
        return "missing"
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def list_images(root: str | Path, key: str = "data.root") -> list[str]:
    """The image files below `root`, sorted by path; the folder is listed once, however deep. (Paths
    as strings: a folder of 200,000 images lists in a third of a second, where pathlib takes seconds.)"""
    if not os.path.isdir(root):
        raise MissingFile(f"Image folder {Path(root).resolve()} does not exist; set {key} to a folder of images.")
    files = sorted(walk_files(os.path.abspath(root)))
    if not files:
        raise MissingFile(f"No images ({', '.join(IMAGE_EXTENSIONS)}) found under {Path(root).resolve()}.")
    return files


def walk_files(folder: str) -> Iterator[str]:
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir():
                yield from walk_files(entry.path)
            elif os.path.splitext(entry.name)[1].lower() in IMAGE_EXTENSIONS:
                yield entry.path


class ImageFolderDataModule(FileDataModule):
    """Unlabelled images from a folder; every `val_every`-th file (by sorted path) is held out.
    The folder is listed once and every image decoded once (remembered in `cache_dir`)."""

    def __init__(
        self,
        root: str,
        channels: Literal[1, 3] = 3,
        image_size: int = 64,
        val_every: int = 10,
        batch_size: int = 64,
        val_batch_size: int = 500,
        seed: int = 0,
        num_workers: int = 2,
        num_val_samples: int = 500,
        cache_dir: str | None = None,
    ) -> None:
        super().__init__(batch_size, val_batch_size, seed, num_workers, num_val_samples)
        self.root, self.val_every, self.cache_dir = root, val_every, cache_dir
        self.data_shape = shape_of(channels, image_size)

    @functools.cached_property
    def files(self) -> list[str]:
        files = list_images(self.root)
        if len(files) < self.val_every:
            raise DataError(
                f"data.root={self.root} holds {len(files)} images, and every data.val_every={self.val_every}-th is "
                "held out for validation, so none would be: add images, or lower data.val_every (2 at least)."
            )
        refuse_unreadable_images(files, check_cache(self.cache_dir, self.root))
        return files

    def data_files(self, split: str) -> list[str]:
        held_out = split == "val"
        return [f for i, f in enumerate(self.files) if (i % self.val_every == self.val_every - 1) == held_out]

    def make_dataset(self, split: str) -> Dataset:
        return ImageFolderDataset(self.data_files(split), self.data_shape[0], self.data_shape[1])
