"""The ResNet image-to-image generator of CycleGAN (Zhu et al. 2017, after Johnson et al. 2016):
c7s1-64, d128, d256, R256 x n_blocks, u128, u64, c7s1-C, instance norm, reflection padding."""

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from litgan.nets.layers import norm_layer, normal_init
from litgan.nets.roles import Generator, GeneratorInput
from litgan.utils.errors import ConfigError


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=False), norm_layer("instance", channels), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=False), norm_layer("instance", channels),
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        return x + self.block(x)


class ResnetGenerator(Generator):
    """Image (C, H, W) -> image of the same shape in [-1, 1]; `extra_channels` are concatenated to
    the input (StarGAN feeds the target domain as constant planes). 6 blocks for 128 px, 9 for 256.
    Convolutions followed by instance norm have no bias: the norm would remove it."""

    takes = GeneratorInput.IMAGES

    def __init__(
        self, data_shape: Sequence[int], features: int = 64, num_blocks: int = 6, extra_channels: int = 0
    ) -> None:
        super().__init__()
        channels, size = data_shape[0], data_shape[-1]
        if len(data_shape) != 3 or size % 4:
            raise ConfigError(
                f"The ResNet generator needs images (C, H, W) with H, W divisible by 4; got {tuple(data_shape)}."
            )
        self.data_shape = tuple(data_shape)
        width = features
        # Domain planes are constant: through a reflection-padded convolution they add a constant
        # per channel, which instance norm removes, so G could not see them. Zero padding (as in
        # StarGAN) turns them into a border pattern the norm keeps.
        pad = nn.ZeroPad2d(3) if extra_channels else nn.ReflectionPad2d(3)
        layers: list[nn.Module] = [
            pad, nn.Conv2d(channels + extra_channels, width, 7, bias=False), norm_layer("instance", width), nn.ReLU(True),
        ]  # fmt: skip
        for _ in range(2):  # downsample
            layers += [
                nn.Conv2d(width, 2 * width, 3, 2, 1, bias=False),
                norm_layer("instance", 2 * width),
                nn.ReLU(True),
            ]
            width *= 2
        layers += [ResidualBlock(width) for _ in range(num_blocks)]
        for _ in range(2):  # upsample
            layers += [
                nn.ConvTranspose2d(width, width // 2, 3, 2, 1, output_padding=1, bias=False),
                norm_layer("instance", width // 2),
                nn.ReLU(True),
            ]
            width //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(normal_init)

    def forward(self, x: Tensor, domain: Tensor | None = None) -> Tensor:
        """`domain` (batch, extra_channels): the target domain label, one constant plane per entry."""
        if domain is not None:
            x = torch.cat([x, domain[:, :, None, None].expand(-1, -1, *x.shape[2:])], dim=1)
        return self.net(x)
