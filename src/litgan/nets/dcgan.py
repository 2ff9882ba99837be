"""DCGAN (Radford et al. 2015) for square images of 32x32 or 64x64: strided transposed
convolutions with batch norm and ReLU in the generator, strided convolutions with LeakyReLU(0.2)
in the discriminator, N(0, 0.02) initialisation. With `num_classes` (model.conditioning=projection),
the generator's batch norms are conditional and the discriminator has a projection head (Miyato &
Koyama 2018), as in the ResNets."""

from collections.abc import Sequence

from torch import Tensor, nn

from litgan.nets.layers import ConditionalBatchNorm2d, norm_layer, normal_init
from litgan.nets.roles import Discriminator, Generator, GeneratorInput
from litgan.utils.errors import ConfigError

SUPPORTED_SIZES = (32, 64)


def check_image_shape(data_shape: Sequence[int], architecture: str) -> tuple[int, int]:
    """Return (channels, size) or refuse, in one sentence, a shape this architecture cannot make."""
    shape = tuple(data_shape)
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] not in SUPPORTED_SIZES:
        raise ConfigError(
            f"architecture={architecture} works on square images of shape (channels, size, size) "
            f"with size in {SUPPORTED_SIZES}, but the dataset provides samples of shape {shape}; "
            "use architecture=mlp for 2-D point data or resize the images (data.image_size)."
        )
    return shape[0], shape[1]


def _num_doublings(size: int) -> int:
    return {32: 3, 64: 4}[size]  # 4x4 -> size


class DCGANGenerator(Generator):
    takes = GeneratorInput.NOISE
    conditions_on_classes = True

    def __init__(
        self,
        data_shape: Sequence[int],
        latent_dim: int = 100,
        features: int = 64,
        norm: str = "batch",
        num_classes: int | None = None,
    ) -> None:
        super().__init__()
        channels, size = check_image_shape(data_shape, "dcgan")
        if num_classes and norm != "batch":
            raise ConfigError(
                f"model.conditioning=projection conditions the generator's batch norms on the class, and "
                f"architecture.generator.norm={norm}: set it to batch."
            )
        self.data_shape = tuple(data_shape)
        self.latent_dim = latent_dim

        def normalised(width: int) -> nn.Module:
            return ConditionalBatchNorm2d(width, num_classes) if num_classes else norm_layer(norm, width)

        width = features * 2 ** (_num_doublings(size) - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, width, 4, 1, 0, bias=False),
            normalised(width),
            nn.ReLU(True),
        ]
        for _ in range(_num_doublings(size) - 1):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                normalised(width // 2),
                nn.ReLU(True),
            ]
            width //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(normal_init)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        h = z.view(z.shape[0], self.latent_dim, 1, 1)
        for layer in self.net:
            h = layer(h, labels) if isinstance(layer, ConditionalBatchNorm2d) else layer(h)
        return h


class DCGANDiscriminator(Discriminator):
    """Image -> one raw score per example (or `outputs` values: BiGAN's encoder). `norm='layer'`
    or `'none'` for a WGAN-GP critic: batch norm couples the examples of a batch, which the
    per-example gradient penalty forbids."""

    conditions_on_classes = True

    def __init__(
        self,
        data_shape: Sequence[int],
        features: int = 64,
        norm: str = "batch",
        outputs: int = 1,
        num_classes: int | None = None,
    ) -> None:
        super().__init__()
        channels, size = check_image_shape(data_shape, "dcgan")
        self.data_shape = tuple(data_shape)
        width = features
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for _ in range(_num_doublings(size) - 1):
            layers += [
                nn.Conv2d(width, width * 2, 4, 2, 1, bias=False),
                norm_layer(norm, width * 2),
                nn.LeakyReLU(0.2, True),
            ]
            width *= 2
        self.features = nn.Sequential(*layers)  # -> (width, 4, 4)
        self.head = nn.Linear(width * 16, outputs)  # = DCGAN's final 4x4 convolution to `outputs` channels
        # projection discriminator: the class's embedding dotted with the flattened features
        self.embedding = nn.Embedding(num_classes, width * 16) if num_classes else None
        self.apply(normal_init)
        if self.embedding is not None:
            nn.init.normal_(self.embedding.weight, 0.0, 0.02)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        phi = self.features(x).flatten(1)
        out = self.head(phi)
        if self.embedding is not None:
            out = out + (self.embedding(labels) * phi).sum(1, keepdim=True)
        return out.squeeze(1) if out.shape[1] == 1 else out
