"""scikit-learn's handwritten digits (1,797 8x8 images shipped inside the package, no download),
upsampled to 32x32 so that image architectures serve them."""

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import Tensor
from torch.nn import functional as F

from litgan.data.base import InMemoryDataModule, shape_of, to_unit_range


class DigitsDataModule(InMemoryDataModule):
    """Labelled 1x32x32 images in [-1, 1]; a fixed stratified split keeps `val_fraction` aside."""

    num_classes = 10
    labelled = True

    def __init__(
        self,
        image_size: int = 32,
        val_fraction: float = 0.2,
        batch_size: int = 64,
        val_batch_size: int = 500,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size, val_batch_size, seed)
        self.image_size = image_size
        self.val_fraction = val_fraction
        self.data_shape = shape_of(1, image_size)

    def make_split(self, split: str) -> tuple[Tensor, ...]:
        digits = load_digits()
        images = torch.from_numpy(digits.images).float().unsqueeze(1)  # values 0..16
        images = F.interpolate(images, size=self.image_size, mode="bilinear", align_corners=False)
        images = to_unit_range(images.clamp(0, 16), 16.0)
        labels = torch.from_numpy(digits.target).long()
        train_idx, val_idx = train_test_split(
            torch.arange(len(labels)).numpy(),
            test_size=self.val_fraction,
            stratify=digits.target,
            random_state=0,
        )
        index = torch.from_numpy(train_idx if split == "train" else val_idx)
        return images[index], labels[index]
