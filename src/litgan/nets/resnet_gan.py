"""The ResNets of the SNGAN and WGAN-GP tables: Gulrajani et al. 2017 (appendix F, their
gan_cifar_resnet.py) and Miyato et al. 2018 (appendix B; the sngan_projection code) for 32x32, and
Miyato's 48x48 (STL-10), 64x64 and 128x128 plans, chosen by the data's image size. Generator
blocks: BN, ReLU, nearest 2x upsampling, 3x3 conv, BN, ReLU, 3x3 conv, plus an upsampled 1x1
shortcut. Discriminator blocks: ReLU, 3x3 conv, ReLU, 3x3 conv, 2x2 average pooling, plus a 1x1
shortcut where the shape changes; no normalisation (spectral norm comes with model=sngan). With
`num_classes`, the generator's batch norms are conditional (a scale and shift per class) and the
discriminator adds the projection <embed(y), phi(x)> (Miyato & Koyama 2018). `attention_at` puts
SAGAN's self-attention (Zhang et al. 2019) at a chosen feature-map width."""

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from litgan.nets.layers import ConditionalBatchNorm2d, norm_layer
from litgan.nets.roles import Discriminator, Generator, GeneratorInput
from litgan.utils.errors import ConfigError

# image size: (bottom width, channel multiples of `width` from the linear layer through each block)
GENERATOR_PLANS = {
    32: (4, (4, 4, 4, 4)),
    48: (6, (8, 4, 2, 1)),
    64: (4, (16, 8, 4, 2, 1)),
    128: (4, (16, 16, 8, 4, 2, 1)),
}
# image size: (channel multiple of `width`, whether it halves the resolution) of each block, the
# first being the "optimized" input block
DISCRIMINATOR_PLANS = {
    32: ((2, True), (2, True), (2, False), (2, False)),
    48: ((1, True), (2, True), (4, True), (8, True), (16, False)),
    64: ((1, True), (2, True), (4, True), (8, True), (16, True)),
    128: ((1, True), (2, True), (4, True), (8, True), (16, True), (16, False)),
}


def image_size(data_shape: Sequence[int]) -> tuple[int, int]:
    shape = tuple(data_shape)
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] not in GENERATOR_PLANS:
        raise ConfigError(
            f"architecture=resnet works on square images of size {tuple(GENERATOR_PLANS)}, but the dataset provides "
            f"samples of shape {shape}; set data.image_size to one of them, or use architecture=mlp for points."
        )
    return shape[0], shape[1]


def conv(in_channels: int, out_channels: int, kernel: int, gain: float = 1.0) -> nn.Conv2d:
    """The papers' initialisation: Glorot uniform (gain sqrt 2 inside the residual branches), zero bias."""
    layer = nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2)
    nn.init.xavier_uniform_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


class SelfAttention(nn.Module):
    """SAGAN's self-attention (Zhang et al. 2019): every position attends to every other, with
    queries and keys of C/8 channels; the output joins the input scaled by a learned `gamma` that
    starts at 0, so the net starts as the one without it."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.query, self.key = conv(channels, channels // 8, 1), conv(channels, channels // 8, 1)
        self.value = conv(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: Tensor) -> Tensor:
        batch, channels, height, width = x.shape
        query, key = self.query(x).flatten(2), self.key(x).flatten(2)  # (batch, C/8, positions)
        attention = torch.softmax(query.transpose(1, 2) @ key, dim=-1)  # (batch, positions, positions)
        attended = (self.value(x).flatten(2) @ attention.transpose(1, 2)).view(batch, channels, height, width)
        return x + self.gamma * attended


def check_attention(attention_at: int | None, sizes: Sequence[int]) -> None:
    if attention_at is not None and attention_at not in sizes:
        raise ConfigError(
            f"attention_at={attention_at}: the nets' feature maps at this image size are {sorted(set(sizes))} "
            "pixels wide; choose one of them, or null for no self-attention."
        )


class GeneratorBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, num_classes: int | None) -> None:
        super().__init__()
        self.norm1, self.norm2 = (
            ConditionalBatchNorm2d(c, num_classes) if num_classes else nn.BatchNorm2d(c)
            for c in (in_channels, out_channels)
        )
        self.conv1 = conv(in_channels, out_channels, 3, math.sqrt(2))
        self.conv2 = conv(out_channels, out_channels, 3, math.sqrt(2))
        self.shortcut = conv(in_channels, out_channels, 1)

    def normalise(self, norm: nn.Module, x: Tensor, labels: Tensor | None) -> Tensor:
        return norm(x, labels) if isinstance(norm, ConditionalBatchNorm2d) else norm(x)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        h = F.interpolate(F.relu(self.normalise(self.norm1, x, labels)), scale_factor=2)
        h = self.conv2(F.relu(self.normalise(self.norm2, self.conv1(h), labels)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2))


class DiscriminatorBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, downsample: bool, first: bool, norm: str) -> None:
        super().__init__()
        self.first, self.downsample = first, downsample
        hidden = out_channels if first else in_channels
        # the first block sees the image itself: no ReLU before its first convolution (SNGAN's OptimizedBlock)
        self.norm1 = nn.Identity() if first else norm_layer(norm, in_channels)
        self.conv1 = conv(in_channels, hidden, 3, math.sqrt(2))
        self.norm2 = norm_layer(norm, hidden)
        self.conv2 = conv(hidden, out_channels, 3, math.sqrt(2))
        learnable = first or downsample or in_channels != out_channels
        self.shortcut = conv(in_channels, out_channels, 1) if learnable else None

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv2(F.relu(self.norm2(self.conv1(x if self.first else F.relu(self.norm1(x))))))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        if self.shortcut is None:
            return h + x
        if self.first:  # pool, then project (the image has 3 channels: cheaper)
            return h + self.shortcut(F.avg_pool2d(x, 2))
        shortcut = self.shortcut(x)
        return h + (F.avg_pool2d(shortcut, 2) if self.downsample else shortcut)


class ResNetGenerator(Generator):
    """z -> image; `width` 64 gives SNGAN's 256 channels at 32x32, 32 gives WGAN-GP's 128."""

    takes = GeneratorInput.NOISE
    conditions_on_classes = True

    def __init__(
        self,
        data_shape: Sequence[int],
        latent_dim: int = 128,
        width: int = 64,
        attention_at: int | None = None,
        num_classes: int | None = None,
    ) -> None:
        """`attention_at`: SAGAN's self-attention after the block whose output is this many pixels wide."""
        super().__init__()
        channels, size = image_size(data_shape)
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.bottom, multiples = GENERATOR_PLANS[size]
        widths = [width * m for m in multiples]
        resolutions = [self.bottom * 2 ** (index + 1) for index in range(len(widths) - 1)]
        check_attention(attention_at, resolutions)
        self.linear = nn.Linear(latent_dim, self.bottom**2 * widths[0])
        nn.init.xavier_uniform_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        self.blocks = nn.ModuleList(GeneratorBlock(a, b, num_classes) for a, b in zip(widths, widths[1:]))
        self.attention_after = resolutions.index(attention_at) if attention_at is not None else None
        self.attention = SelfAttention(widths[self.attention_after + 1]) if attention_at is not None else None
        self.norm = nn.BatchNorm2d(widths[-1])
        self.to_image = conv(widths[-1], channels, 3)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.linear(z).view(len(z), -1, self.bottom, self.bottom)
        for index, block in enumerate(self.blocks):
            h = block(h, labels)
            if index == self.attention_after:
                h = self.attention(h)
        return self.to_image(F.relu(self.norm(h))).tanh()


class ResNetDiscriminator(Discriminator):
    """Image -> one raw score per example (or `outputs` values: BiGAN's encoder). `pooling`: SNGAN
    sums the last features over the image, WGAN-GP averages them; `head_bias`: WGAN-GP's final
    linear layer has a bias, SNGAN's none. `norm`: none in both papers' CIFAR nets; `layer` for a
    penalised critic that wants one (batch norm would mix the examples the penalty keeps apart)."""

    conditions_on_classes = True

    def __init__(
        self,
        data_shape: Sequence[int],
        width: int = 64,
        pooling: str = "sum",
        head_bias: bool = False,
        norm: str = "none",
        attention_at: int | None = None,
        outputs: int = 1,
        num_classes: int | None = None,
    ) -> None:
        """`attention_at`: SAGAN's self-attention after the block whose output is this many pixels wide."""
        super().__init__()
        if pooling not in ("sum", "mean"):
            raise ConfigError(f"architecture.discriminator.pooling must be 'sum' or 'mean', got {pooling!r}")
        channels, size = image_size(data_shape)
        self.pooling = pooling
        blocks: list[nn.Module] = []
        in_channels, resolution, resolutions = channels, size, []
        for index, (multiple, downsample) in enumerate(DISCRIMINATOR_PLANS[size]):
            blocks.append(DiscriminatorBlock(in_channels, width * multiple, downsample, index == 0, norm))
            in_channels, resolution = width * multiple, resolution // 2 if downsample else resolution
            resolutions.append(resolution)
            if resolution == attention_at and attention_at not in resolutions[:-1]:
                blocks.append(SelfAttention(in_channels))
        check_attention(attention_at, resolutions)
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(in_channels, outputs, bias=head_bias)
        nn.init.xavier_uniform_(self.head.weight)
        if head_bias:
            nn.init.zeros_(self.head.bias)
        # projection discriminator: the class's embedding dotted with the pooled features
        self.embedding = nn.Embedding(num_classes, in_channels) if num_classes else None
        if self.embedding is not None:
            nn.init.xavier_uniform_(self.embedding.weight)

    def features(self, x: Tensor) -> Tensor:
        h = F.relu(self.blocks(x))
        return h.sum((2, 3)) if self.pooling == "sum" else h.mean((2, 3))

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        phi = self.features(x)
        out = self.head(phi)
        if self.embedding is not None:
            out = out + (self.embedding(labels) * phi).sum(1, keepdim=True)
        return out.squeeze(1) if out.shape[1] == 1 else out
