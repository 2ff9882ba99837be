"""Architectures produce the dataset's shape and refuse shapes they cannot serve."""

import pytest
import torch

from litgan.nets import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from litgan.nets.layers import ConditionalBatchNorm2d


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


def parameters(net) -> int:
    return sum(p.numel() for p in net.parameters())


def test_the_resnets_have_the_parameter_counts_of_the_papers_code():
    """Counted from the structure of sngan_projection's resnet_32 / snresnet_32 (SNGAN, Miyato et al.
    2018; with 10 classes, its conditional batch norm and projection) and of improved_wgan_training's
    gan_cifar_resnet.py (WGAN-GP, 128 channels in both nets, a biased last layer)."""
    from litgan.nets import ResNetDiscriminator, ResNetGenerator

    cifar = (3, 32, 32)
    assert parameters(ResNetGenerator(cifar)) == 4_276_739
    assert parameters(ResNetDiscriminator(cifar)) == 1_053_824
    assert parameters(ResNetGenerator(cifar, num_classes=10)) == 4_304_387
    assert parameters(ResNetDiscriminator(cifar, num_classes=10)) == 1_055_104
    assert parameters(ResNetGenerator(cifar, width=32)) == 1_204_483
    assert parameters(ResNetDiscriminator(cifar, pooling="mean", head_bias=True)) == 1_053_825


@pytest.mark.parametrize("size", [32, 48, 64, 128])
def test_the_resnet_plans_make_and_judge_images_of_their_size(size):
    from litgan.nets import ResNetDiscriminator, ResNetGenerator

    generator, discriminator = ResNetGenerator((3, size, size), width=4), ResNetDiscriminator((3, size, size), width=4)
    images = generator(torch.randn(2, 128))
    assert images.shape == (2, 3, size, size) and images.abs().max() <= 1
    assert discriminator(images).shape == (2,)


def test_conditional_batch_norm_applies_the_classs_own_scale_and_shift():
    norm = ConditionalBatchNorm2d(2, num_classes=3).eval()  # eval: the running statistics, 0 and 1
    with torch.no_grad():
        norm.scale.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
        norm.shift.weight.copy_(torch.tensor([[0.0, 0.5], [1.0, 1.5], [2.0, 2.5]]))
    x = torch.randn(3, 2, 4, 4)
    out = norm(x, torch.tensor([2, 0, 1]))
    plain = x / (1 + norm.norm.eps) ** 0.5
    for example, label in enumerate([2, 0, 1]):
        scale, shift = norm.scale.weight[label], norm.shift.weight[label]
        torch.testing.assert_close(out[example], plain[example] * scale[:, None, None] + shift[:, None, None])


def test_projection_conditioning_needs_nets_that_condition_and_says_which(compose_config):
    from hydra.utils import instantiate

    from litgan.models.build import build_model
    from litgan.utils.errors import ConfigError

    cfg = compose_config(["model=cgan", "data=digits", "model.conditioning=projection", "architecture=mlp"])
    with pytest.raises(ConfigError, match="conditioning=projection needs nets .*: architecture=dcgan, resnet, or"):
        build_model(cfg, instantiate(cfg.data))
    for architecture in ("dcgan", "resnet"):
        cfg = compose_config(
            ["model=cgan", "data=digits", "model.conditioning=projection", f"architecture={architecture}"]
        )
        model = build_model(cfg, instantiate(cfg.data))
        assert model.discriminator.embedding.num_embeddings == 10
        norms = [m for m in model.generator.modules() if isinstance(m, ConditionalBatchNorm2d)]
        assert norms and all(norm.scale.num_embeddings == 10 for norm in norms)


@pytest.mark.parametrize("architecture", ["dcgan", "resnet"])
def test_both_image_discriminators_project_the_class_onto_their_features(architecture):
    from litgan.nets import DCGANDiscriminator, ResNetDiscriminator

    net = {"dcgan": DCGANDiscriminator((3, 32, 32), features=4, num_classes=5),
           "resnet": ResNetDiscriminator((3, 32, 32), width=4, num_classes=5)}[architecture]  # fmt: skip
    x, labels = torch.randn(4, 3, 32, 32), torch.tensor([0, 3, 3, 4])
    phi = net.features(x).flatten(1)
    expected = net.head(phi).squeeze(1) + (net.embedding(labels) * phi).sum(1)
    torch.testing.assert_close(net(x, labels), expected)


def test_self_attention_starts_as_the_identity_and_then_mixes_positions():
    from litgan.nets.resnet_gan import SelfAttention

    attention = SelfAttention(16)
    x = torch.randn(2, 16, 4, 4)
    torch.testing.assert_close(attention(x), x)  # gamma starts at 0
    with torch.no_grad():
        attention.gamma.fill_(1.0)
    moved = x.clone()
    moved[:, :, 0, 0] += 5  # one position changes: every position's output changes
    assert (attention(moved) - attention(x))[:, :, 1:, 1:].abs().amax() > 0


def test_self_attention_goes_where_asked_and_a_width_the_nets_lack_is_refused():
    from litgan.nets import ResNetDiscriminator, ResNetGenerator
    from litgan.nets.resnet_gan import SelfAttention
    from litgan.utils.errors import ConfigError

    generator = ResNetGenerator((3, 32, 32), width=4, attention_at=16)
    discriminator = ResNetDiscriminator((3, 32, 32), width=4, attention_at=16)
    assert generator.attention_after == 1 and generator(torch.randn(2, 128)).shape == (2, 3, 32, 32)
    assert isinstance(discriminator.blocks[1], SelfAttention) and discriminator(torch.randn(2, 3, 32, 32)).shape == (2,)
    with pytest.raises(ConfigError, match=r"attention_at=12: the nets' feature maps .* are \[8, 16, 32\]"):
        ResNetGenerator((3, 32, 32), width=4, attention_at=12)
