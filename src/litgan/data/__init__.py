"""Datamodules: embedded (generated 2-D data, digits) and read from disk (torchvision sets, folders)."""

from litgan.data.base import FileDataModule, GANDataModule, InMemoryDataModule
from litgan.data.celeba import CelebADataModule
from litgan.data.digits import DigitsDataModule
from litgan.data.in_memory import InMemoryBatches
from litgan.data.shapes import ShapeDomainsDataModule, ShapesDataModule
from litgan.data.toy import ToyDataModule
from litgan.data.unpaired import UnpairedFolderDataModule, UnpairedShapesDataModule
from litgan.data.vision import ImageFolderDataModule, TorchvisionDataModule

__all__ = [
    "CelebADataModule",
    "DigitsDataModule",
    "FileDataModule",
    "GANDataModule",
    "ImageFolderDataModule",
    "InMemoryBatches",
    "InMemoryDataModule",
    "ShapeDomainsDataModule",
    "ShapesDataModule",
    "ToyDataModule",
    "TorchvisionDataModule",
    "UnpairedFolderDataModule",
    "UnpairedShapesDataModule",
]
