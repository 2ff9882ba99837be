"""FID, IS, KID and precision/recall from a single pass of one feature extractor.

torchmetrics owns the statistics (running sums for FID, so memory stays flat in the number of
samples) and their synchronisation across processes; each metric is handed features through
`PrecomputedFeatures` instead of running its own copy of the network."""

from collections.abc import Callable, Iterable

import torch
from torch import Tensor, nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.inception import InceptionScore
from torchmetrics.image.kid import KernelInceptionDistance

from litgan.data.base import GANDataModule
from litgan.metrics.precision_recall import PrecisionRecall
from litgan.models.base import AdversarialModel
from litgan.models.contract import Capability
from litgan.utils.errors import ConfigError


class PrecomputedFeatures(nn.Module):
    """Stands in for torchmetrics' feature network: the features are already computed."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, features: Tensor) -> Tensor:
        return features


FeatureExtractor = Callable[[Tensor], tuple[Tensor, Tensor]]  # images in [-1, 1] -> (features, logits)


class ImageQuality(nn.Module):
    def __init__(
        self,
        num_features: int,
        fid: bool = True,
        inception_score: bool = True,
        kid: bool = True,
        precision_recall: bool = True,
        kid_subset_size: int = 1000,
        kid_subsets: int = 100,
        is_splits: int = 10,
    ) -> None:
        super().__init__()
        features = PrecomputedFeatures(num_features)
        # the reference's statistics (FID's mean and covariance, KID's features, the k-NN radii of
        # precision/recall) are computed at the first evaluation and kept: the reference is fixed
        kept = dict(reset_real_features=False)
        self.fid = FrechetInceptionDistance(features, **kept) if fid else None
        self.inception_score = InceptionScore(features, splits=is_splits) if inception_score else None
        self.kid = (
            KernelInceptionDistance(features, subsets=kid_subsets, subset_size=kid_subset_size, **kept) if kid else None
        )
        self.precision_recall = PrecisionRecall(**kept) if precision_recall else None
        self.reference: Tensor | None = None  # the real features the kept statistics describe

    def reset(self) -> None:
        """Forget the generated images (the reference is kept)."""
        for metric in (self.fid, self.inception_score, self.kid, self.precision_recall):
            if metric is not None:
                metric.reset()

    def reset_reference(self) -> None:
        for metric in (self.fid, self.kid, self.precision_recall):
            if metric is not None:
                metric.reset_real_features = True
                metric.reset()
                metric.reset_real_features = False
        self.reference = None

    def update(self, features: Tensor, logits: Tensor | None, real: bool) -> None:
        if self.fid is not None:
            self.fid.update(features, real=real)
        if self.kid is not None:
            self.kid.update(features, real=real)
        if self.precision_recall is not None:
            self.precision_recall.update(features, real=real)
        if self.inception_score is not None and not real and logits is not None:
            self.inception_score.update(logits)

    def compute(self, seed: int = 0) -> dict[str, float]:
        """IS and KID draw random splits/subsets; a private, seeded RNG keeps them reproducible
        and leaves the training RNG untouched."""
        values = {}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            if self.fid is not None:
                values["fid"] = self.fid.compute().item()
            if self.inception_score is not None:
                mean, std = self.inception_score.compute()
                values["is"], values["is_std"] = mean.item(), std.item()
            if self.kid is not None:
                mean, std = self.kid.compute()
                values["kid"], values["kid_std"] = mean.item(), std.item()
            if self.precision_recall is not None:
                precision, recall = self.precision_recall.compute()
                values["precision"], values["recall"] = precision.item(), recall.item()
        return values

    def evaluate(
        self,
        extractor: FeatureExtractor,
        real_features: Tensor,
        fake_images: Iterable[Tensor],
        seed: int = 0,
        real_radii: Tensor | None = None,
    ) -> dict[str, float]:
        """Reference features (this process's share) against generated images (this process's
        share); `real_radii`: the k-NN radii of the whole reference, where they are known."""
        if self.reference is not real_features:
            self.reset_reference()
            for chunk in real_features.split(1000):
                self.update(chunk, None, real=True)
            if self.precision_recall is not None:
                self.precision_recall.real_radii = real_radii
            self.reference = real_features
        self.reset()
        device = real_features.device
        for images in fake_images:
            features, logits = extractor(images.to(device))
            self.update(features, logits, real=False)
        return self.compute(seed)


def refuse_what_metrics_cannot_score(model: AdversarialModel | None, datamodule: GANDataModule) -> None:
    """metrics= scores images generated from noise: say so, before any work, to a model that makes
    none (None: the images come from a folder) and to data that are not images."""
    if model is not None and Capability.SAMPLE not in model.capabilities:
        raise ConfigError(
            f"metrics= scores samples generated from noise; {type(model).__name__} translates images, and its "
            "translations are measured by the translation measures (callbacks.translation_measures): leave out metrics=."
        )
    if len(datamodule.data_shape) != 3:
        raise ConfigError(
            f"metrics= scores images, and {type(datamodule).__name__} provides samples of shape "
            f"{tuple(datamodule.data_shape)}: leave out metrics= (on the mixtures of Gaussians, val/modes, "
            "val/hq_fraction and val/reverse_kl are measured at every validation)."
        )
