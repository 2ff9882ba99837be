"""The InceptionV3 of FID/IS/KID papers (TF-ported weights, via torch-fidelity), loaded only
from disk: an explicit path or the torch hub cache. Nothing is downloaded at run time."""

import hashlib
from pathlib import Path

import torch
from torch import Tensor, nn
from torch_fidelity.feature_extractor_inceptionv3 import (
    URL_INCEPTION_V3,
    FeatureExtractorInceptionV3,
)

from litgan.utils.errors import MissingFile, UserError

WEIGHTS_FILE = URL_INCEPTION_V3.rsplit("/", 1)[-1]  # weights-inception-2015-12-05-6726825d.pth


class MissingInceptionWeights(MissingFile):
    pass


class InvalidInceptionWeights(UserError, ValueError):
    pass


def hub_weights_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE


def find_inception_weights(path: str | Path | None = None) -> Path:
    """The weights file to use, or one sentence saying what to put where."""
    if path is not None:
        if Path(path).is_file():
            return Path(path)
        raise MissingInceptionWeights(f"metrics.inception_weights={path} does not exist; point it at {WEIGHTS_FILE}.")
    if hub_weights_path().is_file():
        return hub_weights_path()
    raise MissingInceptionWeights(
        f"FID/IS/KID need the InceptionV3 weights {WEIGHTS_FILE}: download {URL_INCEPTION_V3} on a machine with "
        f"internet and put it at {hub_weights_path()} (or pass metrics.inception_weights=PATH, or "
        "metrics.on_missing_weights=skip to train without these metrics)."
    )


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def to_uint8(images: Tensor) -> Tensor:
    """Images in [-1, 1] -> uint8 in [0, 255], three channels: the metric boundary."""
    images = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


class InceptionFeatures(nn.Module):
    """One pass of InceptionV3 giving both feature sets the metrics need: the 2048-d pool features
    (FID, KID, precision/recall) and the 1008 unbiased logits (IS). Images in [-1, 1] are turned
    into uint8 and resized to 299 with TF1's bilinear interpolation (no antialiasing), as the
    reference implementations do."""

    def __init__(self, weights_path: str | Path) -> None:
        super().__init__()
        self.weights_path = Path(weights_path)
        self.sha256 = file_sha256(weights_path)  # names the reference cache and the eval protocol
        self.name = f"inception-v3-compat:{self.sha256[:16]}"
        try:
            self.net = FeatureExtractorInceptionV3(
                "inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=str(weights_path)
            )
        except Exception as error:  # noqa: BLE001 - unpickling garbage fails in many ways; all mean the same
            raise InvalidInceptionWeights(
                f"{self.weights_path} (sha256 {self.sha256[:16]}...) is not an InceptionV3 weights file: PyTorch "
                f"cannot load it as {WEIGHTS_FILE} ({type(error).__name__}: {error}). Replace it with that file "
                f"from {URL_INCEPTION_V3}."
            ) from error

    @torch.no_grad()
    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        pool, logits = self.net(to_uint8(images))
        return pool, logits
