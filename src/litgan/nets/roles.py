"""What each generator and discriminator class is, declared on the class so that a model can refuse
an architecture that does not fit it before any net is built."""

import enum
from typing import ClassVar

from torch import nn


class GeneratorInput(enum.Enum):
    NOISE = "noise vectors"  # samples from a latent code: GAN, WGAN, cGAN, BiGAN
    STYLES = "noise vectors mapped to per-layer styles, with noise maps"  # StyleGAN2
    IMAGES = "images"  # image-to-image translation: CycleGAN, StarGAN


class Generator(nn.Module):
    takes: ClassVar[GeneratorInput]
    # takes `num_classes` and is called as G(z, labels): conditional batch norm (model.conditioning=projection)
    conditions_on_classes: ClassVar[bool] = False


class Discriminator(nn.Module):
    # a second head that predicts an image's domain labels (StarGAN's D_cls)
    classifies_domains: ClassVar[bool] = False
    # takes `num_classes` and is called as D(x, labels): a projection head (model.conditioning=projection)
    conditions_on_classes: ClassVar[bool] = False
