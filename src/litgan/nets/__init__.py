"""Generators and discriminators. Each takes the dataset's sample shape and checks it can serve it."""

from litgan.nets.conditional import ConditionalDiscriminator, ConditionalGenerator
from litgan.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from litgan.nets.mlp import MLPDiscriminator, MLPGenerator
from litgan.nets.patchgan import PatchDiscriminator
from litgan.nets.resnet import ResnetGenerator
from litgan.nets.resnet_gan import ResNetDiscriminator, ResNetGenerator
from litgan.nets.stargan import StarGANDiscriminator
from litgan.nets.stylegan2 import StyleGAN2Discriminator, StyleGAN2Generator

__all__ = [
    "ConditionalDiscriminator",
    "ConditionalGenerator",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "PatchDiscriminator",
    "ResNetDiscriminator",
    "ResNetGenerator",
    "ResnetGenerator",
    "StarGANDiscriminator",
    "StyleGAN2Discriminator",
    "StyleGAN2Generator",
]
