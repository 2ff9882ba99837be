"""StyleGAN2's nets (Karras et al. 2020, configuration F; their TensorFlow networks_stylegan2.py):
a mapping network from z to the intermediate latent w, a skip generator whose convolutions are
modulated by per-layer styles (affine maps of w) and demodulated, with per-layer noise inputs, and
a residual discriminator with a minibatch standard-deviation feature. Every weight uses the
equalised learning rate: stored as N(0, 1) / lr_multiplier and scaled at run time by
lr_multiplier / sqrt(fan_in), so that Adam's step is the same relative size in every layer.

Resampling uses the papers' [1, 3, 3, 1] low-pass filter with their padding: a transposed
convolution then the filter to go up, the filter then a strided convolution to go down.
Channels at resolution r: min(channel_base / r, channel_max) (StyleGAN2-ADA's convention; the
TensorFlow code's fmap_base is half of channel_base)."""

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from litgan.nets.roles import Discriminator, Generator, GeneratorInput
from litgan.utils.errors import ConfigError

LEAKY_SLOPE = 0.2
LEAKY_GAIN = math.sqrt(2)  # keeps unit variance through leaky ReLU, as the papers' bias_act does
FILTER = torch.tensor([1.0, 3.0, 3.0, 1.0])


def image_size(data_shape: Sequence[int]) -> tuple[int, int]:
    shape = tuple(data_shape)
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] < 8 or shape[1] & (shape[1] - 1):
        raise ConfigError(
            f"architecture=stylegan2 works on square images whose side is a power of two of at least 8, but the "
            f"dataset provides samples of shape {shape}; set data.image_size (e.g. 32)."
        )
    return shape[0], shape[1]


def channels_at(resolution: int, channel_base: int, channel_max: int) -> int:
    return min(channel_base // resolution, channel_max)


def leaky_relu(x: Tensor) -> Tensor:
    return F.leaky_relu(x, LEAKY_SLOPE) * LEAKY_GAIN


class EqualizedLinear(nn.Module):
    """A linear layer with the equalised learning rate; `bias_init` 1 for the style affines (each
    style starts as the identity scale)."""

    def __init__(self, in_features: int, out_features: int, lr_multiplier: float = 1.0, bias_init: float = 0.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init)) / lr_multiplier)
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.weight_gain, self.bias * self.bias_gain)


class Blur(nn.Module):
    """The [1, 3, 3, 1] x [1, 3, 3, 1] low-pass filter applied to each channel, after `padding`
    (left, right, top, bottom) zeros; `gain` 4 after upsampling by inserting zeros."""

    def __init__(self, padding: tuple[int, int, int, int], gain: float = 1.0) -> None:
        super().__init__()
        kernel = torch.outer(FILTER, FILTER)
        self.register_buffer("kernel", kernel / kernel.sum() * gain, persistent=False)
        self.padding = padding

    def forward(self, x: Tensor) -> Tensor:
        channels = x.shape[1]
        weight = self.kernel.to(x.dtype).expand(channels, 1, 4, 4)
        return F.conv2d(F.pad(x, self.padding), weight, groups=channels)


def upsample(x: Tensor, blur: Blur) -> Tensor:
    """2x upsampling: zeros between the pixels, then the filter (upfirdn2d with up=2)."""
    batch, channels, height, width = x.shape
    spread = x.new_zeros(batch, channels, height, 2, width, 2)
    spread[:, :, :, 0, :, 0] = x
    return blur(spread.view(batch, channels, 2 * height, 2 * width))


class ModulatedConv2d(nn.Module):
    """A convolution whose weights are scaled per example and input channel by the style (an
    affine map of w, starting at 1), then, with `demodulate`, rescaled so that each output
    channel's weights have unit norm: unit-variance inputs give unit-variance outputs
    (Karras et al. 2020, eq. 1-3). Run as one grouped convolution over the batch."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel: int, w_dim: int, demodulate: bool = True, up: bool = False
    ) -> None:
        super().__init__()
        self.affine = EqualizedLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.weight_gain = 1 / math.sqrt(in_channels * kernel * kernel)
        self.demodulate, self.up, self.padding = demodulate, up, kernel // 2
        # after the transposed convolution (3x3, stride 2: 2h + 1 pixels), the filter trims to 2h
        self.blur = Blur((1, 1, 1, 1), gain=4) if up else None

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        batch, in_channels, height, width = x.shape
        styles = self.affine(w)  # (batch, in)
        weight = self.weight[None] * self.weight_gain * styles[:, None, :, None, None]  # (batch, out, in, k, k)
        if self.demodulate:
            weight = weight * (weight.square().sum((2, 3, 4), keepdim=True) + 1e-8).rsqrt()
        out_channels, kernel = weight.shape[1], weight.shape[-1]
        x = x.reshape(1, batch * in_channels, height, width)
        if self.up:
            weight = weight.transpose(1, 2).reshape(batch * in_channels, out_channels, kernel, kernel)
            x = F.conv_transpose2d(x, weight, stride=2, groups=batch)
            return self.blur(x.view(batch, out_channels, *x.shape[2:]))
        x = F.conv2d(
            x, weight.reshape(batch * out_channels, in_channels, kernel, kernel), padding=self.padding, groups=batch
        )
        return x.view(batch, out_channels, height, width)


class StyledLayer(nn.Module):
    """Modulated 3x3 convolution, noise (one map per example, a learned strength per layer that
    starts at 0), bias, leaky ReLU. The layer's fixed noise map (`fixed_noise`) serves sampling."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, up: bool = False) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim, up=up)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.register_buffer("fixed_noise", torch.randn(1, 1, resolution, resolution))

    def forward(self, x: Tensor, w: Tensor, noise: Tensor | None) -> Tensor:
        x = self.conv(x, w)
        x = x + (self.fixed_noise if noise is None else noise) * self.noise_strength
        return leaky_relu(x + self.bias[:, None, None])


class ToRGB(nn.Module):
    """1x1 modulated convolution to the image's channels, without demodulation."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        return self.conv(x, w) + self.bias[:, None, None]


class MappingNetwork(nn.Module):
    """z, normalised to unit mean square, through `layers` leaky-ReLU layers to w; their learning
    rate is `lr_multiplier` times the rest's (0.01 in the paper)."""

    def __init__(self, latent_dim: int, w_dim: int, layers: int, lr_multiplier: float) -> None:
        super().__init__()
        widths = [latent_dim] + [w_dim] * layers
        self.layers = nn.ModuleList(EqualizedLinear(a, b, lr_multiplier) for a, b in zip(widths, widths[1:]))

    def forward(self, z: Tensor) -> Tensor:
        x = z * (z.square().mean(1, keepdim=True) + 1e-8).rsqrt()
        for layer in self.layers:
            x = leaky_relu(layer(x))
        return x


class StyleGAN2Generator(Generator):
    """z -> w (`mapping`) -> image (`synthesis`, from one w per style input, `num_ws` of them:
    style mixing gives layers different ws). Sampling, G(z), uses every layer's fixed noise map;
    training passes fresh noise drawn by the model (`noise_shapes`)."""

    takes = GeneratorInput.STYLES

    def __init__(
        self,
        data_shape: Sequence[int],
        latent_dim: int = 512,
        w_dim: int = 512,
        mapping_layers: int = 8,
        mapping_lr_multiplier: float = 0.01,
        channel_base: int = 16384,
        channel_max: int = 512,
    ) -> None:
        super().__init__()
        image_channels, size = image_size(data_shape)
        self.latent_dim = latent_dim
        self.mapping = MappingNetwork(latent_dim, w_dim, mapping_layers, mapping_lr_multiplier)
        resolutions = [2**k for k in range(2, int(math.log2(size)) + 1)]
        channels = [channels_at(r, channel_base, channel_max) for r in resolutions]
        self.const = nn.Parameter(torch.randn(channels[0], 4, 4))
        self.layers = nn.ModuleList([StyledLayer(channels[0], channels[0], w_dim, 4)])
        for (a, b), r in zip(zip(channels, channels[1:]), resolutions[1:]):
            self.layers.extend([StyledLayer(a, b, w_dim, r, up=True), StyledLayer(b, b, w_dim, r)])
        self.to_rgb = nn.ModuleList(ToRGB(c, image_channels, w_dim) for c in channels)
        self.upsample_blur = Blur((2, 1, 2, 1), gain=4)
        # the style inputs, as the paper lays them out: convolution i takes w i, and the ToRGB after
        # it w i + 1 (so each ToRGB shares its w with the next block's first convolution)
        self.num_ws = len(self.layers) + 1
        self.noise_shapes = [(r, r) for r in [4] + [r for r in resolutions[1:] for _ in range(2)]]

    def synthesis(self, ws: Tensor, noise: Sequence[Tensor] | None = None) -> Tensor:
        """ws: (batch, num_ws, w_dim); noise: one (batch, 1, h, w) map per layer of `noise_shapes`,
        or None for the fixed maps."""
        x = self.const.expand(len(ws), *self.const.shape)
        noise = noise if noise is not None else [None] * len(self.layers)
        x = self.layers[0](x, ws[:, 0], noise[0])
        image = self.to_rgb[0](x, ws[:, 1])
        for block, to_rgb in enumerate(self.to_rgb[1:]):
            first = 2 * block + 1
            x = self.layers[first](x, ws[:, first], noise[first])
            x = self.layers[first + 1](x, ws[:, first + 1], noise[first + 1])
            image = upsample(image, self.upsample_blur) + to_rgb(x, ws[:, first + 2])
        return image

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.synthesis(self.mapping(z)[:, None].expand(-1, self.num_ws, -1))


def minibatch_stddev(x: Tensor, group_size: int) -> Tensor:
    """Karras et al. 2018: the feature maps' standard deviation over a group of examples, averaged
    to one number per group and appended as one more channel. Groups are consecutive examples
    (the paper strides them): each process's share of a DDP batch then groups as one process does."""
    batch, channels, height, width = x.shape
    group = min(group_size, batch)
    if batch % group:
        raise ConfigError(
            f"The discriminator's minibatch standard deviation takes groups of {group} examples, and a minibatch "
            f"of {batch} does not divide into them: choose data.batch_size (per process and critic update) as a "
            f"multiple of architecture.discriminator.mbstd_group_size."
        )
    y = x.view(batch // group, group, channels, height, width)
    y = (y.var(1, unbiased=False) + 1e-8).sqrt().mean((1, 2, 3))  # (groups,)
    y = y.repeat_interleave(group).view(batch, 1, 1, 1).expand(batch, 1, height, width)
    return torch.cat([x, y], 1)


class EqualizedConv2d(nn.Module):
    """A convolution with the equalised learning rate, optionally halving the resolution (the
    filter, then stride 2) and followed by bias and leaky ReLU (`activate`)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        down: bool = False,
        bias: bool = True,
        activate: bool = True,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1 / math.sqrt(in_channels * kernel * kernel)
        self.down, self.activate = down, activate
        # the filter's padding makes the strided convolution land on h/2 pixels (upfirdn2d's choice)
        pad = (4 - 2 + kernel - 1 + 1) // 2 if down else 0
        self.blur = Blur((pad, pad, pad, pad)) if down else None
        self.padding = 0 if down else kernel // 2

    def forward(self, x: Tensor) -> Tensor:
        if self.blur is not None:
            x = self.blur(x)
        x = F.conv2d(x, self.weight * self.weight_gain, self.bias, stride=2 if self.down else 1, padding=self.padding)
        return leaky_relu(x) if self.activate else x


class DiscriminatorBlock(nn.Module):
    """Two 3x3 convolutions (the second halving the resolution) beside a 1x1 shortcut; their sum
    is scaled by 1/sqrt(2) to keep the variance."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv0 = EqualizedConv2d(in_channels, in_channels, 3)
        self.conv1 = EqualizedConv2d(in_channels, out_channels, 3, down=True)
        self.skip = EqualizedConv2d(in_channels, out_channels, 1, down=True, bias=False, activate=False)

    def forward(self, x: Tensor) -> Tensor:
        return (self.skip(x) + self.conv1(self.conv0(x))) / math.sqrt(2)


class StyleGAN2Discriminator(Discriminator):
    """Image -> one raw score per example: a 1x1 convolution from the image, residual blocks down
    to 4x4, the minibatch standard deviation, a 3x3 convolution and two dense layers."""

    def __init__(
        self,
        data_shape: Sequence[int],
        channel_base: int = 16384,
        channel_max: int = 512,
        mbstd_group_size: int = 4,
    ) -> None:
        super().__init__()
        image_channels, size = image_size(data_shape)
        resolutions = [2**k for k in range(int(math.log2(size)), 1, -1)]  # size, ..., 4
        channels = [channels_at(r, channel_base, channel_max) for r in resolutions]
        self.from_rgb = EqualizedConv2d(image_channels, channels[0], 1)
        self.blocks = nn.Sequential(*(DiscriminatorBlock(a, b) for a, b in zip(channels, channels[1:])))
        self.mbstd_group_size = mbstd_group_size
        self.conv = EqualizedConv2d(channels[-1] + 1, channels[-1], 3)
        self.dense = EqualizedLinear(channels[-1] * 16, channels[-1])
        self.out = EqualizedLinear(channels[-1], 1)

    def forward(self, x: Tensor) -> Tensor:
        x = self.blocks(self.from_rgb(x))
        x = self.conv(minibatch_stddev(x, self.mbstd_group_size))
        return self.out(leaky_relu(self.dense(x.flatten(1)))).squeeze(1)
