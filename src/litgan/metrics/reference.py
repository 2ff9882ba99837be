"""Features of the real images, computed once per (dataset split, extractor, sample count) and
kept on disk, so that every run and sweep trial on the same data reuses them."""

import hashlib
import logging
from pathlib import Path

import torch
from torch import Tensor

from litgan.data.base import GANDataModule
from litgan.metrics.image_quality import FeatureExtractor
from litgan.utils.files import atomic_save

log = logging.getLogger(__name__)


def reference_path(
    datamodule: GANDataModule,
    split: str,
    extractor_name: str,
    num_samples: int | None,
    cache_dir: str | Path,
) -> Path:
    key = hashlib.sha256(f"{datamodule.fingerprint(split)}|{extractor_name}|{num_samples}".encode()).hexdigest()
    return Path(cache_dir) / f"reference-{type(datamodule).__name__}-{split}-{key[:20]}.pt"


@torch.no_grad()
def compute_reference(
    datamodule: GANDataModule,
    split: str,
    extractor: FeatureExtractor,
    num_samples: int | None,
    batch_size: int,
    device: torch.device,
) -> Tensor:
    chunks = [
        extractor(images.to(device))[0].cpu() for images in datamodule.real_batches(split, batch_size, num_samples)
    ]
    return torch.cat(chunks)


def load_or_compute_reference(path: Path, compute) -> Tensor:
    if path.is_file():
        log.info("Reference features: cache hit %s", path)
        return torch.load(path, weights_only=True)
    features = compute()
    atomic_save(features, path)
    log.info("Reference features: computed %d and cached them at %s", len(features), path)
    return features
