"""Conditional GAN: the conditioning maths, the loss by hand, class-row sample grids."""

import pytest
import torch
from hydra.utils import instantiate
from torch import nn

from litgan.evaluate import evaluate
from litgan.models.build import build_model
from litgan.nets import (
    ConditionalDiscriminator,
    ConditionalGenerator,
    DCGANDiscriminator,
    MLPDiscriminator,
    MLPGenerator,
)
from litgan.train import train
from litgan.utils.random import ShardedGenerator
from tests.helpers import compose_train_config, tiny_overrides


def test_conditional_discriminator_sees_the_one_hot_class_beside_the_sample():
    D = ConditionalDiscriminator(lambda data_shape: MLPDiscriminator(data_shape, hidden_dim=8), (2,), num_classes=3)
    x, y = torch.randn(5, 2), torch.tensor([0, 1, 2, 1, 0])
    torch.testing.assert_close(D(x, y), D.net(torch.cat([x, nn.functional.one_hot(y, 3).float()], dim=1)))
    assert not torch.allclose(D(x, y), D(x, (y + 1) % 3))

    D = ConditionalDiscriminator(lambda data_shape: DCGANDiscriminator(data_shape, features=4), (1, 32, 32), 10)
    images, y = torch.randn(2, 1, 32, 32), torch.tensor([3, 7])
    planes = torch.zeros(2, 10, 32, 32)
    planes[0, 3], planes[1, 7] = 1, 1  # one constant plane per class, on for the sample's own
    torch.testing.assert_close(D(images, y), D.net(torch.cat([images, planes], dim=1)))


def test_conditional_generator_feeds_the_class_embedding_with_the_noise():
    G = ConditionalGenerator(
        lambda data_shape, latent_dim=4: MLPGenerator(data_shape, latent_dim, hidden_dim=8), (2,), 3, embed_dim=5
    )
    assert G.latent_dim == 4 and G.net.latent_dim == 9
    z = torch.randn(1, 4).repeat(3, 1)
    samples = G(z, torch.arange(3))
    assert samples.shape == (3, 2) and not torch.allclose(samples[0], samples[1])


def test_critic_and_generator_losses_by_hand(compose_config):
    cfg = compose_config(["model=cgan", "data=digits", *tiny_overrides("mlp")])
    model = build_model(cfg, instantiate(cfg.data))
    real, y = torch.rand(6, 1, 32, 32) * 2 - 1, torch.tensor([0, 1, 2, 3, 4, 5])
    replay = ShardedGenerator(cfg.seed)  # the model's own stream of noise, drawn again
    terms = model.critic_loss(real, y)
    loss, gp = terms.loss, terms.penalty
    fake = model.generator(replay.randn(6, model.latent_dim), y)
    by_hand = (
        nn.functional.softplus(-model.discriminator(real, y)).mean()
        + nn.functional.softplus(model.discriminator(fake, y)).mean()
    )
    torch.testing.assert_close(loss, by_hand)
    assert gp is None
    labels = replay.randint(10, 4)
    fake = model.generator(replay.randn(4, model.latent_dim), labels)
    by_hand = nn.functional.softplus(-model.discriminator(fake, labels)).mean()  # non-saturating
    torch.testing.assert_close(model.generator_loss(real[:4], y[:4]), by_hand)


def test_sample_grid_has_one_row_per_class(compose_config):
    cfg = compose_config(["model=cgan", "data=digits", *tiny_overrides("mlp")])
    model = build_model(cfg, instantiate(cfg.data))
    seen = {}
    original = model.sample

    def record(z, labels=None):
        seen["z"], seen["labels"] = z, labels
        return original(z, labels)

    model.sample = record
    grid, row_labels = model.sample_grid((), 4)
    assert grid.shape == (40, 1, 32, 32) and row_labels == tuple(map(str, range(10)))  # the digits
    assert seen["labels"].tolist() == [c for c in range(10) for _ in range(4)]
    assert torch.equal(seen["z"][:4], seen["z"][4:8])  # the same noise in every row


def test_eval_measures_a_cgan_checkpoint_as_its_last_validation_did(compose_config, digits_classifier, tmp_path):
    """One measuring path: eval.py with the training metrics' sample count, seed and batch size
    draws the same samples for the same classes and reports the same values."""
    domain = ["metrics=domain", f"paths.cache_dir={digits_classifier}", "metrics.num_samples=100"]
    overrides = ["model=cgan", "data=digits", *tiny_overrides("dcgan", steps=4), *domain, "metrics.batch_size=50"]
    metrics = train(compose_config(overrides))
    eval_overrides = [f"ckpt_path={metrics['last_model_path']}", "num_samples=100", "batch_size=50", "seed=42"]
    eval_cfg = compose_train_config(
        [*eval_overrides, "metrics=domain", f"paths.cache_dir={digits_classifier}"], tmp_path / "eval", "eval"
    )
    report = evaluate(eval_cfg)
    for name in ("val/class_accuracy", "val/fid_domain"):
        assert report["metrics"][name] == pytest.approx(metrics[name]), name
    assert 0 <= report["metrics"]["val/class_accuracy"] <= 1


def test_the_sample_picture_names_its_rows_and_says_its_step(compose_config, monkeypatch, tmp_path):
    from litgan import plots

    cfg = compose_config(["model=cgan", "data=shapes", "data.label=color", *tiny_overrides("mlp")])
    model = build_model(cfg, instantiate(cfg.data))
    drawn = []
    monkeypatch.setattr(plots, "save", lambda fig, path: drawn.append(fig))
    grid = model.sample_grid((), 4)
    plots.image_grid(grid.images, tmp_path / "grid.png", 4, "generator step 7", grid.row_labels)
    (ax,) = drawn[0].axes
    assert ax.get_title() == "generator step 7"
    assert [label.get_text() for label in ax.get_yticklabels()] == ["red", "green", "blue"]  # the colour classes
