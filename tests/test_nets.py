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
