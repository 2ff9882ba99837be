"""The contract between a model family and the rest of litgan: what a family can do
(`Capability`, and the methods each capability promises), what its critic update returns
(`CriticTerms`) and what its validation gives the callbacks (`ValidationOutputs`)."""

import enum
from collections.abc import Callable
from typing import NamedTuple, TypedDict

from torch import Tensor, nn

# what a config's `architecture.generator` / `architecture.discriminator` becomes: a net's class
# with its settings, called with the data's shape (and what the family adds)
NetFactory = Callable[..., nn.Module]


class Capability(enum.Flag):
    """What a model can do, read by callbacks, `evaluate.py` and `models/build.py`; a family that
    declares one has its methods (`CAPABILITY_METHODS`), checked when the class is defined."""

    NONE = 0
    SAMPLE = enum.auto()  # from noise: `latent_dim`, `sample(z, labels=None)`
    CONDITION = enum.auto()  # on a class: `num_classes`, `balanced_labels(n, device)`
    TRANSLATE = enum.auto()  # images between domains; validation outputs `source` and `reconstructed`
    ENCODE = enum.auto()  # samples to latent codes: `encode(x)`, `reconstruction_errors(x, z)`


CAPABILITY_METHODS = {
    Capability.SAMPLE: ("sample",),
    Capability.CONDITION: ("sample", "balanced_labels"),
    Capability.TRANSLATE: (),
    Capability.ENCODE: ("sample", "encode", "reconstruction_errors"),
}


class CriticTerms(NamedTuple):
    """One critic update's loss and what is logged of it."""

    loss: Tensor
    # the raw scores of the real and of the generated minibatch, detached; their means are logged,
    # taken only on the steps that log (each reduction is a kernel launch)
    real_scores: Tensor
    fake_scores: Tensor
    penalty: Tensor | None = None  # the gradient penalty, before its weight
    r1: Tensor | None = None  # R1 on the real minibatch, before its weight (on the steps that apply it)
    lecam: Tensor | None = None  # LeCam's regulariser, before its weight


class SampleGrid(NamedTuple):
    """The sample picture: images in rows, and what each row shows (none where all rows are alike)."""

    images: Tensor
    row_labels: tuple[str, ...] = ()


class ValidationOutputs(TypedDict, total=False):
    """What `validation_step` returns to the callbacks: `real` always, `fake` where a callback reads
    it (a sampling model's 2-D points: the scatter plot, the mode coverage); translation
    and encoding models add the `source` images and their `reconstructed` round trip and, where
    the data has domain labels, the `target` labels asked for. Floating-point values are float32."""

    real: Tensor
    fake: Tensor
    source: Tensor
    reconstructed: Tensor
    target: Tensor
