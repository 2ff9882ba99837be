"""LightningModules, one per model family."""

from litgan.models.cgan import ConditionalGAN
from litgan.models.cyclegan import CycleGAN
from litgan.models.gan import GAN

__all__ = ["ConditionalGAN", "CycleGAN", "GAN"]
