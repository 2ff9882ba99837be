"""LightningModules, one per model family."""

from litgan.models.cgan import ConditionalGAN
from litgan.models.cyclegan import CycleGAN
from litgan.models.gan import GAN
from litgan.models.stargan import StarGAN

__all__ = ["ConditionalGAN", "CycleGAN", "GAN", "StarGAN"]
