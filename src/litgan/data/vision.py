"""Image datasets read from disk: torchvision's MNIST / Fashion-MNIST / CIFAR-10 (never
downloaded at run time) and any folder of images."""

import pickle
from collections.abc import Callable
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from torch import Tensor
from torch.utils.data import Dataset
from torchvision import datasets, transforms

from litgan.data.base import FileDataModule, shape_of

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
    ) -> None:
        super().__init__(batch_size, val_batch_size, seed, num_workers)
        if name not in TORCHVISION_SETS:
            raise ValueError(f"Unknown torchvision dataset {name!r}: choose one of {sorted(TORCHVISION_SETS)}.")
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
            raise FileNotFoundError(
                f"{self.name} was not found under {Path(self.root, self.subfolder).resolve()}: this program never "
                f"downloads; on a machine with internet run `torchvision.datasets.{self.dataset_class.__name__}"
                f"('{self.root}', download=True)` and copy the resulting folder here."
            ) from error


class ImageFolderDataset(Dataset):
    """Every image file below `root` (any nesting, no labels), sorted by path."""

    def __init__(self, files: list[Path], channels: int, image_size: int) -> None:
        refuse_unreadable_images(files)
        self.files = files
        self.transform = image_transform(channels, image_size)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[Tensor]:
        return (load_image(self.files[index], self.transform),)


def load_image(path: Path, transform: Callable[[Image.Image], Tensor]) -> Tensor:
    """A transformed image, or an error naming the file that cannot be read."""
    try:
        with Image.open(path) as image:
            return transform(image)
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(f"Cannot read image {path}: {error}. Remove or replace the file.") from error


def refuse_unreadable_images(files: list[Path]) -> None:
    """Every file PIL cannot open or whose structure is damaged, named before training starts
    (a check of headers and chunk checksums: it does not decode every pixel)."""
    unreadable = []
    for path in files:
        try:
            with Image.open(path) as image:
                image.verify()
        except Exception as error:  # noqa: BLE001 - PIL reports damage through many exception types
            unreadable.append(f"{path} ({type(error).__name__}: {error})")
    if unreadable:
        raise ValueError(
            f"{len(unreadable)} of {len(files)} images cannot be read; remove or replace them: " + "; ".join(unreadable)
        )


def list_images(root: str | Path) -> list[Path]:
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"Image folder {root.resolve()} does not exist; set data.root to a folder of images.")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise FileNotFoundError(f"No images ({', '.join(IMAGE_EXTENSIONS)}) found under {root.resolve()}.")
    return files


class ImageFolderDataModule(FileDataModule):
    """Unlabelled images from a folder; every `val_every`-th file (by sorted path) is held out."""

    def __init__(
        self,
        root: str,
        channels: int = 3,
        image_size: int = 64,
        val_every: int = 10,
        batch_size: int = 64,
        val_batch_size: int = 500,
        seed: int = 0,
        num_workers: int = 2,
    ) -> None:
        super().__init__(batch_size, val_batch_size, seed, num_workers)
        self.root, self.val_every = root, val_every
        self.data_shape = shape_of(channels, image_size)

    def data_files(self, split: str) -> list[Path]:
        return list(self.dataset(split).files)

    def make_dataset(self, split: str) -> Dataset:
        files = list_images(self.root)
        is_val = [i % self.val_every == self.val_every - 1 for i in range(len(files))]
        chosen = [f for f, val in zip(files, is_val) if val == (split == "val")]
        return ImageFolderDataset(chosen or files, self.data_shape[0], self.data_shape[1])
