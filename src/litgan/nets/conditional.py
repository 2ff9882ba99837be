"""Class-conditional wrappers around any generator / discriminator of `litgan.nets`."""

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn


class ConditionalGenerator(nn.Module):
    """G(z, y) (Mirza & Osindero 2014): a learned embedding of the class is concatenated to z."""

    def __init__(
        self, generator: Callable[..., nn.Module], data_shape: Sequence[int], num_classes: int, embed_dim: int = 32
    ) -> None:
        super().__init__()
        self.latent_dim: int = generator(data_shape=data_shape).latent_dim
        self.num_classes = num_classes
        self.embedding = nn.Embedding(num_classes, embed_dim)
        self.net = generator(data_shape=data_shape, latent_dim=self.latent_dim + embed_dim)

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        return self.net(torch.cat([z, self.embedding(labels)], dim=1))


class ProjectionDiscriminator(nn.Module):
    """D(x, y) = psi(phi(x)) + <V_y, phi(x)> (Miyato & Koyama 2018): the class is projected on the
    discriminator's last features instead of being concatenated to the input."""

    def __init__(self, discriminator: Callable[..., nn.Module], data_shape: Sequence[int], num_classes: int) -> None:
        super().__init__()
        self.net = discriminator(data_shape=data_shape)
        self.embedding = nn.Embedding(num_classes, self.net.feature_dim)
        nn.init.normal_(self.embedding.weight, std=0.02)

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        features = self.net.embed(x)
        return self.net.head(features).squeeze(1) + (self.embedding(labels) * features).sum(dim=1)
