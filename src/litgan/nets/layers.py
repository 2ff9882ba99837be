"""Layer choices every net shares: normalisation (also conditional on the class), weight
initialisation, spectral norm."""

from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from litgan.utils.errors import ConfigError

NORMS = ("none", "batch", "layer", "instance")


def norm_layer(kind: str, channels: int, dims: int = 2) -> nn.Module:
    """`dims=1` for features (batch, channels), 2 for images (batch, channels, h, w). 'layer'
    normalises each example over all its features, the WGAN-GP choice for a critic: unlike
    batch norm it does not mix the examples of a batch, which the per-example penalty needs."""
    if kind == "none":
        return nn.Identity()
    if kind == "batch":
        return nn.BatchNorm1d(channels) if dims == 1 else nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.LayerNorm(channels) if dims == 1 else nn.GroupNorm(1, channels)
    if kind == "instance" and dims == 2:
        return nn.InstanceNorm2d(channels)
    allowed = [k for k in NORMS if dims == 2 or k != "instance"]
    raise ConfigError(f"norm must be one of {allowed}, got {kind!r}")


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose scale and shift are the class's own (de Vries et al. 2017; Miyato & Koyama
    2018's categorical conditional batch norm): scales start at 1, shifts at 0."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.scale = nn.Embedding(num_classes, channels)
        self.shift = nn.Embedding(num_classes, channels)
        nn.init.ones_(self.scale.weight)
        nn.init.zeros_(self.shift.weight)

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        return self.norm(x) * self.scale(labels)[:, :, None, None] + self.shift(labels)[:, :, None, None]


def normal_init(module: nn.Module, std: float = 0.02) -> None:
    """DCGAN's initialisation, used by every image net here: weights N(0, std), biases 0, norm
    scales N(1, std). Apply with `net.apply(normal_init)`."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, std)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm)) and module.affine:
        nn.init.normal_(module.weight, 1.0, std)
        nn.init.zeros_(module.bias)


WEIGHTED = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, nn.Embedding)


def add_spectral_norm(net: nn.Module) -> nn.Module:
    """Miyato et al. 2018: every weight divided by its largest singular value, estimated by one
    power iteration per forward pass, so each layer (and the net) is 1-Lipschitz. Works on any
    net: every linear, convolutional and embedding layer is wrapped."""
    for module in list(net.modules()):
        if isinstance(module, WEIGHTED) and not nn.utils.parametrize.is_parametrized(module, "weight"):
            spectral_norm(module)
    return net
