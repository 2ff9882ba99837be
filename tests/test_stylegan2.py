"""StyleGAN2's layers and training terms against their formulas (Karras et al. 2020)."""

import math

import pytest
import torch
from hydra.utils import instantiate

from litgan.losses import PathLengthTarget, path_lengths
from litgan.models.build import build_model
from litgan.nets.stylegan2 import (
    Blur,
    EqualizedLinear,
    ModulatedConv2d,
    StyleGAN2Discriminator,
    StyleGAN2Generator,
    minibatch_stddev,
    upsample,
)
from litgan.utils.errors import ConfigError
from tests.helpers import TINY_NETS, fit_model, tiny_overrides

TINY_G = {"latent_dim": 8, "w_dim": 8, "mapping_layers": 2, "channel_base": 64, "channel_max": 8}


@pytest.mark.parametrize("lr_multiplier", [1.0, 0.01])
def test_the_equalised_learning_rate_moves_every_layer_by_lr_times_its_he_constant(lr_multiplier):
    """Weights are stored as N(0, 1) / lr_multiplier and used times lr_multiplier / sqrt(fan_in): the
    used weights start at He's scale whatever the fan-in, and Adam's first step (lr times the sign of
    the gradient) moves each used weight by lr * lr_multiplier / sqrt(fan_in)."""
    torch.manual_seed(0)
    lr = 1e-3
    for fan_in in (16, 1024):
        layer = EqualizedLinear(fan_in, 256, lr_multiplier=lr_multiplier).double()
        used = layer.weight.detach() * layer.weight_gain
        assert used.std().item() == pytest.approx(1 / math.sqrt(fan_in), rel=0.05)
        x = torch.randn(64, fan_in, dtype=torch.float64)
        torch.testing.assert_close(layer(x), x @ used.T + layer.bias.detach() * lr_multiplier)
        optimizer = torch.optim.Adam(layer.parameters(), lr=lr, eps=1e-15)  # a first step of exactly lr
        layer(x).square().sum().backward()
        optimizer.step()
        moved = (layer.weight.detach() * layer.weight_gain - used).abs()
        expected = lr * lr_multiplier / math.sqrt(fan_in)
        torch.testing.assert_close(moved, torch.full_like(moved, expected), rtol=1e-6, atol=0)


def test_demodulation_gives_unit_output_variance_for_unit_input_variance_whatever_the_style():
    torch.manual_seed(0)
    conv = ModulatedConv2d(64, 32, 3, w_dim=16)
    x = torch.randn(4, 64, 40, 40)
    for style_scale in (1.0, 5.0):
        w = torch.randn(4, 16) * style_scale
        inside = conv(x, w)[:, :, 1:-1, 1:-1]  # the borders see zero padding
        variance = inside.var(dim=(2, 3))  # per example and output channel
        assert variance.mean().item() == pytest.approx(1.0, abs=0.03)
        assert (variance - 1).abs().max().item() < 0.15
    undemodulated = ModulatedConv2d(64, 32, 3, w_dim=16, demodulate=False)
    assert undemodulated(x, torch.randn(4, 16) * 5)[:, :, 1:-1, 1:-1].var().item() > 2


def test_each_example_is_convolved_with_its_own_modulated_weights_up_and_down_in_resolution():
    torch.manual_seed(0)
    for up in (False, True):
        conv = ModulatedConv2d(3, 5, 3, w_dim=4, up=up)
        x, w = torch.randn(2, 3, 8, 8), torch.randn(2, 4)
        batch = conv(x, w)
        assert batch.shape == (2, 5, 16, 16) if up else (2, 5, 8, 8)
        for i in range(2):  # alone, each example gives the same output: no mixing across the batch
            torch.testing.assert_close(conv(x[i : i + 1], w[i : i + 1]), batch[i : i + 1], rtol=1e-5, atol=1e-5)
    # the filter: a constant image stays constant (away from the zero padding) after 2x upsampling
    flat = upsample(torch.ones(1, 1, 8, 8), Blur((2, 1, 2, 1), gain=4))
    torch.testing.assert_close(flat[..., 2:-2, 2:-2], torch.ones(1, 1, 12, 12))


def test_minibatch_stddev_appends_each_groups_mean_standard_deviation_and_groups_consecutive_examples():
    torch.manual_seed(0)
    x = torch.randn(8, 3, 4, 4)
    out = minibatch_stddev(x, group_size=4)
    assert out.shape == (8, 4, 4, 4) and torch.equal(out[:, :3], x)
    for group in range(2):
        members = x[4 * group : 4 * group + 4]
        by_hand = members.var(0, unbiased=False).add(1e-8).sqrt().mean()
        torch.testing.assert_close(out[4 * group : 4 * group + 4, 3], by_hand.expand(4, 4, 4))
    # each half of the batch (a DDP process's share) gives what the whole batch gives it
    torch.testing.assert_close(torch.cat([minibatch_stddev(half, 4) for half in x.chunk(2)]), out)
    with pytest.raises(ConfigError, match="groups of 4 examples, and a minibatch of 6"):
        minibatch_stddev(x[:6], group_size=4)


def test_path_length_is_the_norm_of_the_jacobian_transposed_times_the_image_noise():
    torch.manual_seed(0)
    G = StyleGAN2Generator((1, 8, 8), **TINY_G)
    ws = G.mapping(torch.randn(3, 8))[:, None].expand(-1, G.num_ws, -1).detach()
    image_noise = torch.randn(3, 1, 8, 8) / 8
    lengths = path_lengths(lambda w: G.synthesis(w), ws, image_noise)
    for i in range(3):
        jacobian = torch.autograd.functional.jacobian(
            lambda w: G.synthesis(w[None])[0], ws[i]
        )  # (1, 8, 8, num_ws, w_dim)
        product = torch.einsum("chw,chwnd->nd", image_noise[i], jacobian)  # J^T y: (num_ws, w_dim)
        assert lengths[i].item() == pytest.approx(product.square().sum(1).mean().sqrt().item(), rel=1e-4)
    target = PathLengthTarget(decay=0.01)
    penalty = target(lengths, lengths.mean())
    assert target.mean.item() == pytest.approx(0.01 * lengths.mean().item())
    assert penalty.item() == pytest.approx((lengths - target.mean).square().mean().item())


def test_style_mixing_switches_to_the_second_latents_styles_after_a_random_layer(compose_config):
    cfg = compose_config(["model=stylegan2", "data=digits", *TINY_NETS["stylegan2"], "model.style_mixing=1.0"])
    model = build_model(cfg, instantiate(cfg.data))
    ws, noise = model.styles(64)
    assert [tuple(n.shape) for n in noise] == [(64, 1, h, w) for h, w in model.generator.noise_shapes]
    crossovers = []
    for example in ws:
        changes = [i for i in range(1, len(example)) if not torch.equal(example[i], example[i - 1])]
        assert len(changes) == 1  # the first latent's styles, then the second's from that layer on
        crossovers.append(changes[0])
    assert set(crossovers) == set(range(1, model.generator.num_ws))  # every crossover is drawn
    model.style_mixing = 0.0
    ws, _ = model.styles(8)
    assert (ws == ws[:, :1]).all()


def test_stylegan2_trains_with_lazy_r1_and_path_length_and_samples_with_the_fixed_noise(compose_config):
    cfg = compose_config(
        [
            "model=stylegan2",
            "data=digits",
            *tiny_overrides("stylegan2", steps=4),
            "model.r1_every=2",
            "model.path_length_every=2",
        ]
    )
    datamodule = instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    fit_model(model, datamodule, max_steps=4, log_every_n_steps=1)
    logged = model.trainer.callback_metrics
    assert {"train/r1", "train/path_length"} <= set(logged) and model.path_length_target.mean.item() > 0
    z = torch.randn(4, model.latent_dim)
    assert torch.equal(model.sample(z), model.sample(z))  # the fixed noise maps: a function of z
    assert model.sample(z).shape == (4, *datamodule.data_shape)


def test_the_stylegan2_nets_refuse_what_they_cannot_make():
    for shape in [(2,), (1, 28, 28), (3, 4, 4)]:
        with pytest.raises(ConfigError, match="side is a power of two of at least 8"):
            StyleGAN2Generator(shape)
        with pytest.raises(ConfigError, match="side is a power of two of at least 8"):
            StyleGAN2Discriminator(shape)
