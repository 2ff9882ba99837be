"""Fully connected generator and discriminator: the nets of Goodfellow 2014 and of the
WGAN-GP toy experiments (512 units, 3 hidden ReLU layers). They flatten any sample shape,
so they serve 2-D points as well as small images."""

import math
from collections.abc import Sequence

from torch import Tensor, nn

from litgan.nets.layers import norm_layer
from litgan.nets.roles import Discriminator, Generator, GeneratorInput


def _hidden_layers(in_dim: int, hidden_dim: int, num_layers: int, norm: str) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for i in range(num_layers):
        layers += [
            nn.Linear(in_dim if i == 0 else hidden_dim, hidden_dim),
            norm_layer(norm, hidden_dim, dims=1),
            nn.ReLU(),
        ]
    return layers


class MLPGenerator(Generator):
    """z ~ N(0, I) in R^latent_dim -> a sample of `data_shape`; tanh output for images (which
    live in [-1, 1]), linear output for points."""

    takes = GeneratorInput.NOISE

    def __init__(
        self,
        data_shape: Sequence[int],
        latent_dim: int = 2,
        hidden_dim: int = 512,
        num_layers: int = 3,
        norm: str = "none",
    ) -> None:
        super().__init__()
        self.data_shape = tuple(data_shape)
        self.latent_dim = latent_dim
        layers = _hidden_layers(latent_dim, hidden_dim, num_layers, norm)
        layers.append(nn.Linear(hidden_dim, math.prod(self.data_shape)))
        if len(self.data_shape) == 3:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(-1, *self.data_shape)


class MLPDiscriminator(Discriminator):
    """A sample of `data_shape` -> one raw score (a logit, or a critic value) per example, or
    `outputs` values per example (BiGAN's encoder is this net with `outputs=latent_dim`)."""

    def __init__(
        self,
        data_shape: Sequence[int],
        hidden_dim: int = 512,
        num_layers: int = 3,
        norm: str = "none",
        outputs: int = 1,
    ) -> None:
        super().__init__()
        self.data_shape = tuple(data_shape)
        self.features = nn.Sequential(*_hidden_layers(math.prod(self.data_shape), hidden_dim, num_layers, norm))
        self.head = nn.Linear(hidden_dim, outputs)

    def forward(self, x: Tensor) -> Tensor:
        out = self.head(self.features(x.flatten(1)))
        return out.squeeze(1) if out.shape[1] == 1 else out
