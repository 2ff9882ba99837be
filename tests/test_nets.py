"""Architectures produce the dataset's shape and refuse shapes they cannot serve."""

import pytest
import torch

from litgan.nets import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator


@pytest.mark.parametrize("shape", [(2,), (1, 8, 8)])
def test_mlp_serves_points_and_flattened_images(shape):
    G, D = MLPGenerator(shape, latent_dim=3, hidden_dim=16), MLPDiscriminator(shape, hidden_dim=16)
    x = G(torch.randn(5, 3))
    assert x.shape == (5, *shape)
    assert D(x).shape == (5,)
    if len(shape) == 3:
        assert x.abs().max() <= 1  # images live in [-1, 1]


@pytest.mark.parametrize("shape", [(1, 32, 32), (3, 32, 32), (3, 64, 64)])
@pytest.mark.parametrize("norm", ["batch", "layer", "none"])
def test_dcgan_shapes(shape, norm):
    G = DCGANGenerator(shape, latent_dim=10, features=8, norm=norm)
    D = DCGANDiscriminator(shape, features=8, norm=norm)
    x = G(torch.randn(3, 10))
    assert x.shape == (3, *shape)
    assert D(x).shape == (3,)


@pytest.mark.parametrize("shape", [(2,), (1, 28, 28), (3, 32, 48)])
def test_dcgan_refuses_shapes_it_cannot_make(shape):
    with pytest.raises(ValueError, match=r"architecture=dcgan works on square images .* " + r"shape \("):
        DCGANGenerator(shape)


@pytest.mark.parametrize(
    "overrides",
    [
        ["model=sngan", "architecture=mlp"],
        ["model=sngan", "architecture=dcgan", "data=digits", "architecture.discriminator.features=8",
         "architecture.generator.features=8"],
        ["model=cgan", "model.spectral_norm=true", "architecture=dcgan", "data=digits",
         "architecture.discriminator.features=8", "architecture.generator.features=8"],
    ],
    ids=["sngan-mlp", "sngan-dcgan", "cgan-dcgan"],
)  # fmt: skip
def test_spectral_norm_keeps_every_discriminator_weight_at_unit_spectral_norm(compose_config, overrides):
    from litgan.nets.layers import WEIGHTED
    from tests.helpers import fit

    cfg = compose_config([*overrides, "trainer.max_steps=8", "data.batch_size=16"])
    _, model = fit(cfg)
    model.eval()  # the weights as the last power iterations left them
    layers = [m for m in model.discriminator.modules() if isinstance(m, WEIGHTED)]
    assert layers and all(torch.nn.utils.parametrize.is_parametrized(m, "weight") for m in layers)
    for layer in layers:
        sigma = torch.linalg.matrix_norm(layer.weight.detach().flatten(1), ord=2)
        assert sigma == pytest.approx(1.0, abs=0.1), layer
    assert not any(torch.nn.utils.parametrize.is_parametrized(m) for m in model.generator.modules())
