"""A small classifier trained on an embedded labelled dataset: on the digits, its penultimate layer
is a feature space where FID means something for 32x32 digits (`val/fid_domain`) and its
predictions score class-conditional samples; on the shape scenes, one per attribute (trained with
blur and noise) judges translations (`callbacks/translation_measures.py`). Training is
deterministic, takes seconds on a CPU, and is cached.

    python -m litgan.metrics.domain_classifier data=digits
"""

import hashlib
import logging
import sys
from pathlib import Path

import torch
from lightning import LightningDataModule
from torch import Tensor, nn
from torch.nn import functional as F
from torchvision.transforms.functional import gaussian_blur

from litgan.data.base import InMemoryDataModule
from litgan.utils.errors import ConfigError
from litgan.utils.files import atomic_save

log = logging.getLogger(__name__)
VERSION = "2"  # bump when the architecture or the training recipe changes: invalidates caches


class DomainClassifier(nn.Module):
    def __init__(self, channels: int, num_classes: int, width: int = 32) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, width, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(2 * width, 4 * width, 3, 1, 1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )  # fmt: skip
        self.head = nn.Linear(4 * width, num_classes)
        self.num_features = 4 * width

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Images in [-1, 1] -> (features, class logits)."""
        features = self.features(images)
        return features, self.head(features)


def accuracy(model: DomainClassifier, images: Tensor, labels: Tensor) -> float:
    with torch.no_grad():
        return (model(images)[1].argmax(1) == labels).float().mean().item()


def train_classifier(
    datamodule: LightningDataModule, epochs: int = 30, seed: int = 0, blur: bool = False, fitted: float = 0.995
) -> tuple[DomainClassifier, float]:
    """Adam on the train split with small shifts as augmentation, for `epochs`, or until two
    epochs in a row classify a `fitted` share of their (augmented) batches right; returns the
    model and its accuracy on the held-out split. Attributes a glance tells apart (colour, size)
    stop after a few epochs, the scene's shape needs most of them.

    `blur`: also blur half the batches (sigma up to 1.5 px) and add noise, so that the classifier
    judges the attribute and not the sharpness: one trained on crisp scenes alone calls slightly
    blurred shapes at random, which is how a generator's output often looks."""
    datamodule.setup()
    images, labels = datamodule.split_tensors("train")[:2]
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = DomainClassifier(images.shape[1], datamodule.num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    fitted_epochs = 0
    for _ in range(epochs):
        correct = 0
        for index in torch.randperm(len(images), generator=generator).split(64):
            shift = torch.randint(-2, 3, (2,), generator=generator).tolist()
            batch = torch.roll(images[index], shifts=shift, dims=(2, 3))
            if blur:
                batch = blur_and_noise(batch, generator)
            logits = model(batch)[1]
            loss = F.cross_entropy(logits, labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            correct += (logits.argmax(1) == labels[index]).sum().item()
        fitted_epochs = fitted_epochs + 1 if correct >= fitted * len(images) else 0
        if fitted_epochs == 2:
            break
    model.eval().requires_grad_(False)
    return model, accuracy(model, *datamodule.split_tensors("val")[:2])


def blur_and_noise(images: Tensor, generator: torch.Generator) -> Tensor:
    sigma, noise = (torch.rand(2, generator=generator) * torch.tensor([1.5, 0.1])).tolist()
    if sigma > 0.75:  # half the batches stay sharp
        images = gaussian_blur(images, kernel_size=5, sigma=sigma)
    return images + noise * torch.randn(images.shape, generator=generator)


def load_or_train(
    datamodule: LightningDataModule, cache_dir: str | Path, blur: bool = False
) -> tuple[DomainClassifier, float]:
    if not isinstance(datamodule, InMemoryDataModule) or datamodule.num_classes is None:
        raise ConfigError(
            f"The domain feature extractor needs an embedded labelled dataset (data=digits); "
            f"{type(datamodule).__name__} is not one. Use metrics=inception instead."
        )
    recipe = f"{VERSION}:blur" if blur else VERSION
    key = hashlib.sha256(f"{recipe}:{datamodule.fingerprint('train')}:{datamodule.fingerprint('val')}".encode())
    path = Path(cache_dir) / f"domain-classifier-{type(datamodule).__name__}-{key.hexdigest()[:16]}.pt"
    images = datamodule.split_tensors("train")[0]
    model = DomainClassifier(images.shape[1], datamodule.num_classes)
    if path.is_file():
        saved = torch.load(path, weights_only=True)
        model.load_state_dict(saved["state_dict"])
        return model.eval().requires_grad_(False), saved["val_accuracy"]
    model, val_accuracy = train_classifier(datamodule, blur=blur)
    atomic_save({"state_dict": model.state_dict(), "val_accuracy": val_accuracy}, path)
    log.info("Trained the domain classifier (held-out accuracy %.4f), cached at %s", val_accuracy, path)
    return model, val_accuracy


def main(overrides: list[str]) -> None:
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    config_dir = Path(__file__).resolve().parents[3] / "configs"
    with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
        cfg = compose("train", overrides=overrides or ["data=digits"])
    datamodule = instantiate(cfg.data)
    model, val_accuracy = load_or_train(datamodule, cfg.paths.cache_dir)
    print(
        f"{type(datamodule).__name__}: held-out accuracy {val_accuracy:.4f} ({len(datamodule.split_tensors('val')[0])} images)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
