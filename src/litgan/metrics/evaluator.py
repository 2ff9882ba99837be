"""The image-quality metrics as a library: the feature extractor (InceptionV3 or a domain
classifier), cached reference features of the real data, scoring of generated images, and the
protocol a reader needs to compare the numbers. The training callback
(`callbacks/image_metrics.py`) and eval.py both use it."""

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

import torch
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor
from torchmetrics.classification import MulticlassAccuracy

from litgan.metrics.domain_classifier import DomainClassifier, load_or_train
from litgan.metrics.image_quality import ImageQuality
from litgan.metrics.inception import InceptionFeatures, MissingInceptionWeights, find_inception_weights
from litgan.metrics.precision_recall import knn_radii
from litgan.metrics.reference import compute_reference, load_or_compute_reference, reference_path
from litgan.models.base import AdversarialModel
from litgan.models.contract import Capability
from litgan.utils.errors import ConfigError
from litgan.utils.random import ShardedGenerator


@torch.no_grad()
def seeded_samples(
    model: AdversarialModel, num_samples: int, batch_size: int, seed: int, rank: int = 0, world: int = 1
) -> Iterator[tuple[Tensor, Tensor | None]]:
    """This process's share of `num_samples` samples of `model` from the noise of `seed`, in
    batches, with the classes asked of a conditional model (all in turn; None otherwise): what
    the metrics measure in training and in eval.py, and what eval.py saves."""
    conditional = Capability.CONDITION in model.capabilities
    per_process = math.ceil(num_samples / world)
    noise = ShardedGenerator(seed, rank, world, model.device).randn(per_process, model.latent_dim)
    for z in noise.split(batch_size):
        labels = model.balanced_labels(len(z), model.device) if conditional else None
        yield model.sample(z, labels), labels


class ImageMetricEvaluator:
    """`feature_extractor`: "inception" (fid, is, kid, precision, recall, with the standard
    InceptionV3 weights from `inception_weights` or the torch hub cache) or "domain" (fid_domain,
    with a classifier trained on the dataset itself, whose classes also give a conditional model's
    class_accuracy and an encoding model's reconstruction_class_accuracy). Names are bare: the
    caller logs them (`litgan.utils.metric_names.logged_names`)."""

    def __init__(
        self,
        feature_extractor: Literal["inception", "domain"] = "inception",
        num_samples: int = 10_000,
        num_real_samples: int | None = 50_000,
        real_split: str = "train",
        batch_size: int = 250,
        inception_weights: str | None = None,
        on_missing_weights: str = "error",
        fid: bool = True,
        inception_score: bool = True,
        kid: bool = True,
        precision_recall: bool = True,
        kid_subset_size: int = 1000,
        cache_dir: str = ".cache/litgan",
        seed: int = 0,
    ) -> None:
        if feature_extractor not in ("inception", "domain"):
            raise ConfigError(f"metrics.feature_extractor must be 'inception' or 'domain', got {feature_extractor!r}")
        if on_missing_weights not in ("error", "skip"):
            raise ConfigError(f"metrics.on_missing_weights must be 'error' or 'skip', got {on_missing_weights!r}")
        self.feature_extractor = feature_extractor
        self.num_samples = num_samples
        self.num_real_samples = num_real_samples
        self.real_split = real_split
        self.batch_size = batch_size
        self.inception_weights = inception_weights
        self.on_missing_weights = on_missing_weights
        self.switches = dict(fid=fid, inception_score=inception_score, kid=kid, precision_recall=precision_recall)
        self.kid_subset_size = kid_subset_size
        self.cache_dir = cache_dir
        self.seed = seed
        self.extractor: InceptionFeatures | DomainClassifier | None = None
        self.reference: Tensor | None = None
        self.radii: Tensor | None = None

    def prepare(self, datamodule: Any) -> bool:
        """Load (or train) the feature extractor; a missing weights file fails here, at start-up
        (or, with `on_missing_weights=skip`, warns and returns False: no metrics)."""
        self.reference = self.radii = None
        if self.feature_extractor == "domain":
            self.extractor, accuracy = load_or_train(datamodule, self.cache_dir)
            self.extractor_name, self.suffix = f"domain-classifier:{accuracy:.4f}", "_domain"
            self.quality = ImageQuality(
                self.extractor.num_features,
                fid=True,
                inception_score=False,
                kid=False,
                precision_recall=False,
            )
            return True
        try:
            weights = find_inception_weights(self.inception_weights)
        except MissingInceptionWeights as error:
            if self.on_missing_weights == "error":
                raise
            rank_zero_warn(f"{error} Continuing without FID/IS/KID; the best checkpoint is the latest.")
            return False
        self.extractor = InceptionFeatures(weights)
        self.extractor_name, self.suffix = self.extractor.name, ""
        self.quality = ImageQuality(2048, kid_subset_size=self.kid_subset_size, **self.switches)
        return True

    def protocol(self, num_real: int, num_fake: int) -> dict[str, Any]:
        """What a reader needs to compare these numbers with others."""
        protocol = {
            "num_real": num_real,
            "num_fake": num_fake,
            "real_split": self.real_split,
            "feature_extractor": self.extractor_name,
        }
        if isinstance(self.extractor, InceptionFeatures):
            protocol["weights_file"] = str(self.extractor.weights_path)
            protocol["weights_sha256"] = self.extractor.sha256
            protocol["resize"] = (
                "299x299, TF1-compatible bilinear without antialiasing (torch-fidelity / torchmetrics antialias=False)"
            )
            protocol["kid_subset_size"] = self.kid_subset_size
        return protocol

    def reference_features(
        self,
        datamodule: Any,
        device: torch.device,
        is_global_zero: bool = True,
        barrier=lambda: None,
    ) -> Tensor:
        path = reference_path(datamodule, self.real_split, self.extractor_name, self.num_real_samples, self.cache_dir)
        compute = lambda: compute_reference(  # noqa: E731
            datamodule,
            self.real_split,
            self.extractor,
            self.num_real_samples,
            self.batch_size,
            device,
        )
        features = load_or_compute_reference(path, compute) if is_global_zero else None
        barrier()  # the other processes read what process 0 cached
        return features if features is not None else load_or_compute_reference(path, compute)

    def reference_radii(
        self, datamodule: Any, features: Tensor, is_global_zero: bool = True, barrier=lambda: None
    ) -> Tensor | None:
        """The k-NN radii of the reference features for precision/recall (O(reals²) to compute),
        cached beside the features; None where precision/recall is off."""
        metric = self.quality.precision_recall
        if metric is None:
            return None
        path = reference_path(datamodule, self.real_split, self.extractor_name, self.num_real_samples, self.cache_dir)
        path = path.with_name(f"{path.stem}-radii-k{metric.k}.pt")
        compute = lambda: knn_radii(features, metric.k, metric.block)  # noqa: E731
        radii = load_or_compute_reference(path, compute) if is_global_zero else None
        barrier()
        return radii if radii is not None else load_or_compute_reference(path, compute)

    def to(self, device: torch.device) -> None:
        self.extractor.to(device)
        self.quality.to(device)

    @torch.no_grad()
    def measure(
        self,
        model: AdversarialModel,
        datamodule: Any,
        rank: int = 0,
        world: int = 1,
        barrier: Callable[[], None] = lambda: None,
        samples: Iterable[tuple[Tensor, Tensor | None]] | None = None,
    ) -> dict[str, float]:
        """`samples` of `model` (by default this process's share of `seeded_samples`) against the
        reference features (this process's share), every metric state synchronised."""
        device = model.device
        self.to(device)
        if self.reference is None:  # this process's share; the shares sum to the whole set
            features = self.reference_features(datamodule, device, rank == 0, barrier)
            radii = self.reference_radii(datamodule, features, rank == 0, barrier)
            self.reference = features[rank::world].to(device)
            # precision/recall gathers the processes' shares in rank order; the radii follow that order
            order = torch.cat([torch.arange(len(features))[r::world] for r in range(world)])
            self.radii = radii[order].to(device) if radii is not None else None
        was_training = model.generator.training
        model.generator.eval()
        # conditional models: how often the domain classifier recognises the class each sample was asked for
        classifies = isinstance(self.extractor, DomainClassifier) and Capability.CONDITION in model.capabilities
        accuracy = MulticlassAccuracy(model.num_classes, average="micro").to(device) if classifies else None

        if samples is None:  # drawn lazily, batch by batch, in eval mode
            samples = seeded_samples(model, self.num_samples, self.batch_size, self.seed, rank, world)

        def images():
            for batch, labels in samples:
                batch = batch.to(device)
                if accuracy is not None:
                    accuracy.update(self.extractor(batch)[1], labels.to(device))
                yield batch

        values = self.score(self.reference, images(), self.radii)
        if accuracy is not None:
            values["class_accuracy"] = accuracy.compute().item()
        values |= self.round_trip(model, datamodule, rank, world)
        model.generator.train(was_training)
        return values

    @torch.no_grad()
    def round_trip(self, model: AdversarialModel, datamodule: Any, rank: int = 0, world: int = 1) -> dict[str, float]:
        """Encoding models, in the domain classifier's eyes: reconstruction_class_accuracy, how
        often it gives G(E(x)) the class of x over the validation split (each process its share),
        i.e. whether the round trip keeps what x shows rather than its pixels. Nothing otherwise."""
        if not isinstance(self.extractor, DomainClassifier) or Capability.ENCODE not in model.capabilities:
            return {}
        images, labels = datamodule.split_tensors("val")[:2]
        accuracy = MulticlassAccuracy(datamodule.num_classes, average="micro").to(model.device)
        for x, y in zip(images[rank::world].split(self.batch_size), labels[rank::world].split(self.batch_size)):
            x, y = x.to(model.device), y.to(model.device)
            accuracy.update(self.extractor(model.sample(model.encode(x)))[1], y)
        return {"reconstruction_class_accuracy": accuracy.compute().item()}

    def score(self, real_features: Tensor, fake_images: Any, real_radii: Tensor | None = None) -> dict[str, float]:
        """Metric values of `fake_images` (batches in [-1, 1]) against reference features (and, where
        known, their k-NN radii)."""
        values = self.quality.evaluate(
            self.extractor, real_features, fake_images, seed=self.seed, real_radii=real_radii
        )
        return {name + self.suffix if name == "fid" else name: v for name, v in values.items()}
