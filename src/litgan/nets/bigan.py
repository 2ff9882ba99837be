"""BiGAN's discriminator on pairs (x, z) (Donahue et al. 2017; ALI, Dumoulin et al. 2017), made
from any discriminator of `litgan.nets`: the code z joins the sample's input, as one constant
plane per latent dimension for images (one entry per dimension for vectors), as the class
does in `ConditionalDiscriminator`."""

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn


class JointDiscriminator(nn.Module):
    def __init__(self, discriminator: Callable[..., nn.Module], data_shape: Sequence[int], latent_dim: int) -> None:
        super().__init__()
        self.data_shape, self.latent_dim = tuple(data_shape), latent_dim
        self.net = discriminator(data_shape=(self.data_shape[0] + latent_dim, *self.data_shape[1:]))

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        planes = z.view(*z.shape, *[1] * (x.dim() - 2)).expand(-1, -1, *x.shape[2:])
        return self.net(torch.cat([x, planes], dim=1))

    def forward_flat(self, pair: Tensor) -> Tensor:
        """D on (x, z) flattened into one row per example: the gradient penalty mixes pairs."""
        x, z = pair.split([pair.shape[1] - self.latent_dim, self.latent_dim], dim=1)
        return self(x.view(-1, *self.data_shape), z)
