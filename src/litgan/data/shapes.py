"""Procedurally generated 32x32 scenes with known ground truth: one shape on a background, with
attributes shape (circle, square, triangle), colour (red, green, blue), size (small, large) and
background (dark, light), at a jittered position. Rendering is vectorised and seeded, so any
number of images is regenerated identically (12 000 in about 3 s on a CPU), with no download."""

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from litgan.data.base import InMemoryDataModule, TrainingData, shape_of
from litgan.utils.errors import ConfigError

ATTRIBUTES = {
    "shape": ("circle", "square", "triangle"),
    "color": ("red", "green", "blue"),
    "size": ("small", "large"),
    "background": ("dark", "light"),
}
COLORS = np.array([[0.9, 0.15, 0.15], [0.15, 0.8, 0.2], [0.2, 0.3, 0.95]])
BACKGROUNDS = np.array([[0.1, 0.1, 0.12], [0.85, 0.85, 0.8]])
RADII = np.array([5.0, 9.0])


def sample_attributes(n: int, rng: np.random.Generator) -> np.ndarray:
    """n x 4 integer codes, one column per attribute in ATTRIBUTES order."""
    return np.stack([rng.integers(len(values), size=n) for values in ATTRIBUTES.values()], axis=1)


def render(attributes: np.ndarray, rng: np.random.Generator, size: int = 32) -> Tensor:
    """Images in [-1, 1], shape (n, 3, size, size), for the given attribute codes."""
    n = len(attributes)
    shape, color, scale, background = attributes.T
    radius = RADII[scale][:, None, None] * size / 32
    centre = size / 2 + rng.uniform(-3, 3, size=(n, 2)) * size / 32
    y, x = np.mgrid[0:size, 0:size] + 0.5
    dx, dy = x[None] - centre[:, 0, None, None], y[None] - centre[:, 1, None, None]
    circle = dx**2 + dy**2 <= radius**2
    square = (np.abs(dx) <= radius * 0.85) & (np.abs(dy) <= radius * 0.85)
    triangle = (dy <= radius * 0.8) & (dy >= -radius) & (np.abs(dx) <= (dy + radius) * 0.6)
    mask = np.select([shape[:, None, None] == 0, shape[:, None, None] == 1], [circle, square], triangle)
    image = np.where(mask[..., None], COLORS[color][:, None, None], BACKGROUNDS[background][:, None, None])
    image = image + rng.normal(scale=0.02, size=image.shape)  # a little texture
    return torch.from_numpy(np.clip(image, 0, 1) * 2 - 1).float().permute(0, 3, 1, 2).contiguous()


def make_scenes(n: int, seed: int, image_size: int = 32, background: str | None = None) -> tuple[Tensor, Tensor]:
    """n seeded scenes and their attribute codes; `background` fixes that attribute (a domain)."""
    rng = np.random.default_rng(seed)
    attributes = sample_attributes(n, rng)
    if background is not None:
        attributes[:, 3] = ATTRIBUTES["background"].index(background)
    return render(attributes, rng, image_size), torch.from_numpy(attributes).long()


class ShapesDataModule(InMemoryDataModule):
    """Labelled shape scenes: samples, then the attribute named by `label` as class (for
    `model=cgan`), then all attribute codes (n x 4) for measures of content and translation.

    `background`: keep only scenes with this background ("dark" / "light"); null: both."""

    labelled = True

    def __init__(
        self,
        num_samples: int = 10_000,
        num_val_samples: int = 2_000,
        image_size: int = 32,
        label: str = "shape",
        background: str | None = None,
        data_seed: int = 0,
        batch_size: int = 64,
        val_batch_size: int = 500,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size, val_batch_size, seed)
        if label not in ATTRIBUTES:
            raise ConfigError(f"data.label must be one of {list(ATTRIBUTES)}, got {label!r}")
        if background is not None and background not in ATTRIBUTES["background"]:
            raise ConfigError(f"data.background must be one of {ATTRIBUTES['background']} or null, got {background!r}")
        self.num_samples, self.num_val_samples = num_samples, num_val_samples
        self.image_size, self.label, self.background, self.data_seed = image_size, label, background, data_seed
        self.data_shape = shape_of(3, image_size)
        self.num_classes = len(ATTRIBUTES[label])

    def generate(self, n: int, seed: int) -> tuple[Tensor, Tensor, Tensor]:
        images, codes = make_scenes(n, seed, self.image_size, self.background)
        return images, codes[:, list(ATTRIBUTES).index(self.label)], codes

    @property
    def class_names(self) -> list[str]:
        return list(ATTRIBUTES[self.label])

    def make_split(self, split: str) -> tuple[Tensor, ...]:
        if split == "train":
            return self.generate(self.num_samples, self.data_seed)
        return self.generate(self.num_val_samples, self.data_seed + 1)


def domain_groups_of(domains: Sequence[str]) -> list[int]:
    """Label group sizes for the named attributes: 1 bit for a two-valued one, a one-hot block otherwise."""
    return [1 if len(ATTRIBUTES[name]) == 2 else len(ATTRIBUTES[name]) for name in domains]


def encode_domains(codes: Tensor, domains: Sequence[str]) -> Tensor:
    """Attribute codes (n x 4) -> StarGAN domain labels (n x sum of group sizes) in {0, 1}."""
    blocks = []
    for name, size in zip(domains, domain_groups_of(domains)):
        value = codes[:, list(ATTRIBUTES).index(name)]
        blocks.append(value[:, None].float() if size == 1 else F.one_hot(value, size).float())
    return torch.cat(blocks, dim=1)


def decode_domains(labels: Tensor, domains: Sequence[str]) -> Tensor:
    """StarGAN domain labels -> the codes of the named attributes (n x len(domains))."""
    values, groups = [], domain_groups_of(domains)
    for block, size in zip(labels.split(groups, dim=1), groups):
        values.append((block[:, 0] > 0.5).long() if size == 1 else block.argmax(1))
    return torch.stack(values, dim=1)


class ShapeDomainsDataModule(ShapesDataModule):
    """The multi-attribute translation task (StarGAN): the attributes named in `domains` are the
    domains (default colour, one-hot, and size, one bit: edits of the object, like CelebA's hair
    colour); the others (shape, position) are content that must survive translation.
    Batches: (images, domain labels in {0, 1}, all attribute codes n x 4).

    `background` (default dark) keeps one background. With both, the background is content the
    paper's objective lets G change: inverting it is real and undone by the reconstruction, and G
    takes that route. Set null to have both (then `background` may also be a domain)."""

    knows_attributes = True
    provides_data = frozenset({TrainingData.SAMPLES, TrainingData.DOMAIN_LABELS})

    def __init__(
        self,
        domains: Sequence[str] = ("color", "size"),
        background: str | None = "dark",
        num_samples: int = 10_000,
        num_val_samples: int = 1_000,
        image_size: int = 32,
        data_seed: int = 0,
        batch_size: int = 16,
        val_batch_size: int = 250,
        seed: int = 0,
    ) -> None:
        super().__init__(
            num_samples, num_val_samples, image_size, label="shape", background=background, data_seed=data_seed,
            batch_size=batch_size, val_batch_size=val_batch_size, seed=seed,
        )  # fmt: skip
        unknown = [name for name in domains if name not in ATTRIBUTES]
        if unknown or not domains:
            raise ConfigError(f"data.domains must name some of {list(ATTRIBUTES)}, got {list(domains)}")
        if background is not None and "background" in domains:
            raise ConfigError(
                f"data.domains includes background, but data.background={background} keeps only one; "
                f"set data.background=null to translate between backgrounds."
            )
        self.domains = tuple(domains)
        self.domain_groups = domain_groups_of(self.domains)
        self.num_classes = None  # the labels are domain vectors, not one class

    def generate(self, n: int, seed: int) -> tuple[Tensor, Tensor, Tensor]:
        images, _, codes = super().generate(n, seed)
        return images, encode_domains(codes, self.domains), codes

    def expected_attributes(
        self, batch: Sequence[Tensor], outputs: dict[str, Tensor]
    ) -> tuple[Tensor, tuple[str, ...]]:
        """What a translation to outputs["target"] should show: the source's codes with the domain
        attributes replaced by the target's; and the names of those (controlled) attributes."""
        expected = batch[2].clone()
        columns = [list(ATTRIBUTES).index(name) for name in self.domains]
        expected[:, columns] = decode_domains(outputs["target"], self.domains)
        return expected, self.domains
