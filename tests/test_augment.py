"""DiffAugment: each transform does what the paper's code does, gradients pass through, N processes
augment as one does, and the models that cannot use it say so."""

import pytest
import torch
from hydra.utils import instantiate

from litgan.models.build import build_model
from litgan.nets.augment import TRANSFORMS, AugmentedDiscriminator, cutout, diff_augment, translation
from litgan.utils.errors import UserError
from litgan.utils.random import ShardedGenerator
from tests.helpers import fit_model, tiny_overrides

POLICY = ["color", "translation", "cutout"]


def images(n=6, channels=3, size=16, seed=0):
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def shifted(x, dy, dx):
    """x moved down by -dy and right by -dx, zeros coming in: what translation's gather does."""
    out = torch.zeros_like(x)
    h, w = x.shape[-2:]
    out[..., max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)] = x[
        ..., max(0, dy) : h - max(0, -dy), max(0, dx) : w - max(0, -dx)
    ]
    return out


def test_translation_shifts_each_image_by_at_most_an_eighth_and_fills_with_zeros():
    x = images(8)
    out = translation(x, ShardedGenerator(0))
    shifts = []
    for original, moved in zip(x, out):
        matches = [
            (dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if torch.equal(shifted(original, dy, dx), moved)
        ]
        assert len(matches) == 1  # ±2 px = 0.125 x 16
        shifts.append(matches[0])
    assert len(set(shifts)) > 1  # each image its own shift


def test_cutout_zeroes_one_square_of_half_the_side_and_keeps_the_rest():
    x = images(8) + 3  # no zeros of its own
    out = cutout(x, ShardedGenerator(0))
    for original, cut in zip(x, out):
        zeroed = (cut == 0).all(0)
        rows, columns = zeroed.any(1).nonzero().flatten(), zeroed.any(0).nonzero().flatten()
        assert 1 <= len(rows) <= 8 and 1 <= len(columns) <= 8  # 8 x 8, clipped at the borders
        assert zeroed.sum() == len(rows) * len(columns)  # one rectangle
        assert torch.equal(cut[:, ~zeroed], original[:, ~zeroed])


def test_colour_transforms_keep_what_the_paper_keeps():
    x = images(8)
    brightness, saturation, contrast = TRANSFORMS["color"]
    delta = brightness(x, ShardedGenerator(0)) - x
    assert torch.allclose(delta, delta[:, :1, :1, :1].expand_as(delta))  # one offset per image
    assert (delta.abs() <= 0.5).all()
    saturated = saturation(x, ShardedGenerator(0))
    torch.testing.assert_close(saturated.mean(1), x.mean(1))  # grey level per pixel kept
    contrasted = contrast(x, ShardedGenerator(0))
    torch.testing.assert_close(contrasted.mean((1, 2, 3)), x.mean((1, 2, 3)))  # mean per image kept


def test_gradients_flow_through_every_transform():
    x = images(4).requires_grad_(True)
    diff_augment(x, POLICY, ShardedGenerator(0)).square().sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_two_processes_augment_their_halves_as_one_process_augments_the_batch():
    x = images(8)
    whole = diff_augment(x, POLICY, ShardedGenerator(5))
    halves = [diff_augment(x[4 * r : 4 * (r + 1)], POLICY, ShardedGenerator(5, rank=r, world_size=2)) for r in (0, 1)]
    assert torch.equal(torch.cat(halves), whole)


def test_a_conditional_gan_trains_with_diffaugment_on_digits(compose_config):

    cfg = compose_config(["model=cgan", "data=digits", *tiny_overrides("dcgan"), f"model.augment=[{','.join(POLICY)}]"])
    datamodule = instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    assert isinstance(model.discriminator, AugmentedDiscriminator) and model.discriminator.policy == POLICY
    before = [p.detach().clone() for p in model.generator.parameters()]
    fit_model(model, datamodule, max_steps=2)
    assert all(not torch.equal(a, b) for a, b in zip(before, model.generator.parameters()))


@pytest.mark.parametrize(
    "architecture,overrides,sentence",
    [
        ("mlp", ["model=gan", "data=ring", "model.augment=[color]"], r"transforms images, and ToyDataModule provides samples of shape \(2,\)"),
        ("dcgan", ["model=bigan", "data=digits", "+model.augment=[color]"], r"BiGAN's does not; leave model.augment=null"),
        ("dcgan", ["model=gan", "data=digits", "model.augment=[colour]"], r"unknown \['colour'\]"),
    ],
)  # fmt: skip
def test_models_and_data_that_cannot_use_it_say_so(compose_config, architecture, overrides, sentence):
    cfg = compose_config([*overrides, *tiny_overrides(architecture)])
    with pytest.raises(UserError, match=sentence):
        build_model(cfg, instantiate(cfg.data))
