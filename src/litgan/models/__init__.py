"""LightningModules, one per model family, on one base (`base.AdversarialModel`)."""

from litgan.data.base import TrainingData
from litgan.models.base import AdversarialModel
from litgan.models.bigan import BiGAN
from litgan.models.cgan import ConditionalGAN
from litgan.models.contract import Capability, CriticTerms
from litgan.models.cyclegan import CycleGAN
from litgan.models.gan import GAN
from litgan.models.stargan import StarGAN
from litgan.models.stylegan2 import StyleGAN2

__all__ = [
    "AdversarialModel",
    "BiGAN",
    "Capability",
    "ConditionalGAN",
    "CriticTerms",
    "CycleGAN",
    "GAN",
    "StarGAN",
    "StyleGAN2",
    "TrainingData",
]
