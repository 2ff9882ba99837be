"""StarGAN's discriminator (Choi et al. 2018): a PatchGAN without normalisation (the gradient
penalty is per example) whose shared trunk feeds two heads, real/fake per patch (D_src) and the
domain labels of the whole image (D_cls)."""

from collections.abc import Sequence

from torch import Tensor, nn

from litgan.nets.roles import Discriminator
from litgan.utils.errors import ConfigError


class StarGANDiscriminator(Discriminator):
    """`num_layers` stride-2 4x4 convolutions, doubling the width, down to a 2x2 map (6 at 128 px,
    4 at 32 px); D_src is a 3x3 convolution on that map, D_cls one covering all of it."""

    classifies_domains = True

    def __init__(
        self, data_shape: Sequence[int], num_domains: int, features: int = 64, num_layers: int | None = None
    ) -> None:
        super().__init__()
        if len(data_shape) != 3 or data_shape[-1] < 8 or data_shape[-1] & (data_shape[-1] - 1):
            raise ConfigError(
                f"The StarGAN discriminator works on square images whose side is a power of two (>= 8); "
                f"got samples of shape {tuple(data_shape)}."
            )
        channels, size = data_shape[0], data_shape[-1]
        num_layers = num_layers or size.bit_length() - 2  # 128 -> 6, 32 -> 4: a 2x2 map
        layers: list[nn.Module] = []
        width, in_channels = features, channels
        for _ in range(num_layers):
            layers += [nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.01)]
            in_channels, width = width, 2 * width
        self.trunk = nn.Sequential(*layers)
        final_size = size >> num_layers
        self.source = nn.Conv2d(in_channels, 1, 3, 1, 1, bias=False)
        self.classifier = nn.Conv2d(in_channels, num_domains, final_size, bias=False)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(real/fake score per patch (batch, patches), domain logits (batch, num_domains))."""
        hidden = self.trunk(x)
        return self.source(hidden).flatten(1), self.classifier(hidden).flatten(1)
