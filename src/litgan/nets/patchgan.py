"""PatchGAN discriminator (Isola et al. 2017; CycleGAN's 70x70 on 256 px images): a fully
convolutional net scoring overlapping patches; `num_layers` strided layers set the receptive
field (3 -> 70 px); smaller images take fewer, so that the output keeps several patches."""

from collections.abc import Sequence

from torch import Tensor, nn

from litgan.nets.layers import norm_layer, normal_init
from litgan.nets.roles import Discriminator
from litgan.utils.errors import ConfigError


class PatchDiscriminator(Discriminator):
    def __init__(
        self, data_shape: Sequence[int], features: int = 64, num_layers: int | None = None, norm: str = "instance"
    ) -> None:
        super().__init__()
        if len(data_shape) != 3:
            raise ConfigError(
                f"The PatchGAN discriminator works on images (C, H, W); got samples of shape {tuple(data_shape)}."
            )
        channels, size = data_shape[0], data_shape[-1]
        if num_layers is None:  # 256 px -> 3 (70x70 patches); 32 px -> 2; keep >= 2x2 outputs
            num_layers = max(1, min(3, (size // 16).bit_length()))
        width = features
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for i in range(1, num_layers + 1):
            stride = 2 if i < num_layers else 1
            conv = nn.Conv2d(width, 2 * width, 4, stride, 1, bias=norm == "none")  # instance norm removes a bias
            layers += [conv, norm_layer(norm, 2 * width), nn.LeakyReLU(0.2, True)]
            width *= 2
        layers.append(nn.Conv2d(width, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)
        self.apply(normal_init)

    def forward(self, x: Tensor) -> Tensor:
        """One score per patch, shape (batch, patches); losses average over both."""
        return self.net(x).flatten(1)
