"""LightningModules, one per model family."""

from litgan.models.gan import GAN

__all__ = ["GAN"]
