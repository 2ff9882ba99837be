"""Class-conditional wrappers around any generator / discriminator of `litgan.nets`."""

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F


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


class ConditionalDiscriminator(nn.Module):
    """D(x, y) (Mirza & Osindero 2014): the one-hot class joins the input, as one constant plane
    per class for images (one entry per class for vectors), so every layer can compare the sample
    with its class. A projection discriminator (Miyato & Koyama 2018) without the spectral
    normalisation it is designed with collapsed every digit class to one image within 500 steps."""

    def __init__(self, discriminator: Callable[..., nn.Module], data_shape: Sequence[int], num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.net = discriminator(data_shape=(data_shape[0] + num_classes, *data_shape[1:]))

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        one_hot = F.one_hot(labels, self.num_classes).to(x.dtype)
        planes = one_hot.view(*one_hot.shape, *[1] * (x.dim() - 2)).expand(-1, -1, *x.shape[2:])
        return self.net(torch.cat([x, planes], dim=1))
