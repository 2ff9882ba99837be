"""CycleGAN: image pool, learning-rate schedule, losses by hand, which parameters each step moves,
unpaired loaders, refusals, exact resume."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from PIL import Image
from torch.nn import functional as F

from litgan.data import UnpairedFolderDataModule, UnpairedShapesDataModule
from litgan.models.build import build_model
from litgan.models.image_pool import ImagePool
from litgan.models.schedules import constant_then_linear_decay
from tests.helpers import CLASSIFIER_SAMPLES, CYCLEGAN_TINY, cyclegan_overrides, straight_and_resumed, tiny_overrides


def test_image_pool_fills_then_mixes_old_and_new():
    pool = ImagePool(size=4, seed=0)
    first = torch.arange(4.0).view(4, 1)
    assert torch.equal(pool.query(first), first)  # filling: the new images come back
    new = torch.arange(100.0, 200.0).view(100, 1)
    out = pool.query(new)
    from_history = (out < 100).sum().item()
    assert 0 < from_history < 100  # about half, from the stored history
    assert len(pool.images) == 4
    state = pool.state_dict()
    twin = ImagePool(size=4, seed=123)
    twin.load_state_dict(state)
    more = torch.arange(300.0, 340.0).view(40, 1)
    assert torch.equal(pool.query(more), twin.query(more))  # the checkpointed state resumes exactly
    assert torch.equal(ImagePool(size=0).query(new), new)


def test_learning_rate_is_constant_then_decays_linearly_to_zero():
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=2e-4)
    scheduler = constant_then_linear_decay(optimizer, total_steps=10, decay_start=0.5)
    rates = []
    for _ in range(11):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates[:6] == [2e-4] * 6
    assert rates[6:] == pytest.approx([1.6e-4, 1.2e-4, 0.8e-4, 0.4e-4, 0.0])


def build(compose_config, extra=()):
    cfg = compose_config([*cyclegan_overrides(), *extra])
    datamodule = instantiate(cfg.data)
    return cfg, datamodule, build_model(cfg, datamodule)


def test_generator_loss_by_hand(compose_config):
    _, _, model = build(compose_config)
    a, b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    G, Fn, Da, Db = (
        model.generator["a_to_b"],
        model.generator["b_to_a"],
        model.discriminator["a"],
        model.discriminator["b"],
    )
    adversarial = ((Db(G(a)) - 1) ** 2).mean() + ((Da(Fn(b)) - 1) ** 2).mean()  # the paper's LSGAN terms
    cycle = (Fn(G(a)) - a).abs().mean() + (G(Fn(b)) - b).abs().mean()
    identity = (G(b) - b).abs().mean() + (Fn(a) - a).abs().mean()
    expected = adversarial + 10 * cycle + 5 * identity
    torch.testing.assert_close(model.generator_loss(a, b), expected)


def test_discriminator_loss_by_hand_with_an_empty_pool(compose_config):
    _, _, model = build(compose_config, ["model.pool_size=0"])
    a, b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    G, Fn, Da, Db = (
        model.generator["a_to_b"],
        model.generator["b_to_a"],
        model.discriminator["a"],
        model.discriminator["b"],
    )
    expected = (
        0.5 * ((Da(a) - 1) ** 2).mean() + 0.5 * (Da(Fn(b)) ** 2).mean()
        + 0.5 * ((Db(b) - 1) ** 2).mean() + 0.5 * (Db(G(a)) ** 2).mean()
    )  # fmt: skip
    torch.testing.assert_close(model.critic_loss(a, b)[0], expected)


def test_translation_models_and_datasets_refuse_each_other(compose_config):
    for data in ("ring", "digits"):
        cfg = compose_config(["model=cyclegan", f"data={data}"])
        with pytest.raises(ValueError, match="CycleGAN trains on two unpaired image domains"):
            build_model(cfg, instantiate(cfg.data))
    # the data that would do comes from the datamodules' declarations, not a sentence that goes stale
    with pytest.raises(ValueError, match=r"data that does: data=unpaired_folder, unpaired_shapes\.$"):
        build_model(cfg, instantiate(cfg.data))
    cfg = compose_config(["model=gan", "data=unpaired_shapes", "architecture=dcgan"])
    with pytest.raises(ValueError, match="GAN trains on one dataset"):
        build_model(cfg, instantiate(cfg.data))


def test_cyclegan_trains_and_resumes_exactly(compose_config, tmp_path):
    straight, _, resumed, _ = straight_and_resumed(compose_config, cyclegan_overrides(steps=8), 8, tmp_path)
    for (name, p), q in zip(straight.named_parameters(), resumed.parameters()):
        assert torch.equal(p, q), name
    assert len(resumed.pool_a.images) == len(straight.pool_a.images)


def test_unpaired_shapes_keep_content_and_change_background():
    dm = UnpairedShapesDataModule(num_samples=50, num_val_samples=10)
    dm.setup()
    a, b, codes_a, codes_b = dm.train_tensors
    assert a.shape == b.shape == (50, 3, 32, 32)
    assert (codes_a[:, 3] == 0).all() and (codes_b[:, 3] == 1).all()
    assert a[:, :, 0, 0].mean() < 0 < b[:, :, 0, 0].mean()  # dark vs light corners


def test_unpaired_folder_loader_reads_cyclegan_layout(tmp_path):
    rng = np.random.default_rng(0)
    for folder, n in (("trainA", 5), ("trainB", 3), ("testA", 2), ("testB", 2)):
        (tmp_path / folder).mkdir()
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(tmp_path / folder / f"{i}.jpg")
    dm = UnpairedFolderDataModule(str(tmp_path), image_size=16, num_workers=0, batch_size=2)
    dm.setup()
    assert len(dm.train_set) == 5 and len(dm.val_set) == 2
    a, b = next(iter(dm.train_dataloader()))
    assert a.shape == b.shape == (2, 3, 16, 16)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        UnpairedFolderDataModule(str(tmp_path / "missing"), num_workers=0).setup()
    assert F.l1_loss(a, b) > 0


def test_translation_measures_are_logged(compose_config, shape_classifiers):
    from litgan.train import train

    metrics = train(
        compose_config(
            [
                *cyclegan_overrides(steps=2),
                f"callbacks.translation_measures.classifier_samples={CLASSIFIER_SAMPLES}",
                f"paths.cache_dir={shape_classifiers}",
            ]
        )
    )
    for name in ("translation_success", "content_preserved", "cycle_error"):
        assert 0 <= metrics[f"val/{name}"] <= (2 if name == "cycle_error" else 1), name
    assert metrics["train/cycle"] > 0  # CycleGAN's own term comes with the step's losses
    assert (
        len(list(shape_classifiers.glob("domain-classifier-ShapesDataModule-*.pt"))) == 4
    )  # one per attribute, reused


def test_translation_measures_speak_only_to_translation_models(compose_config, tmp_path, caplog):
    from litgan.callbacks import TranslationMeasures

    cyclegan_cfg = compose_config(CYCLEGAN_TINY)  # the unpaired shapes: attributes known
    datamodule = UnpairedFolderDataModule(str(tmp_path), num_workers=0)  # a folder: nothing known
    sampler_cfg = compose_config(["model=wgan_gp", *tiny_overrides()])
    sampler = build_model(sampler_cfg, instantiate(sampler_cfg.data))
    translator = build_model(cyclegan_cfg, instantiate(cyclegan_cfg.data))
    callback = TranslationMeasures(str(tmp_path))
    with caplog.at_level("INFO"):
        callback.setup(SimpleNamespace(datamodule=datamodule), sampler, "fit")
        assert caplog.text == "" and callback.judge is None
        callback.setup(SimpleNamespace(datamodule=datamodule), translator, "fit")
    assert "only the embedded shapes tasks have ground truth" in caplog.text and callback.judge is None


@pytest.mark.parametrize(
    "regulariser", ["model.gradient_penalty_weight=10", "model.r1_gamma=1", "model.lecam_weight=0.1"]
)
def test_the_critic_regularisers_are_refused_for_cyclegans_own_discriminator_loss(compose_config, regulariser):
    from litgan.utils.errors import ConfigError

    with pytest.raises(ConfigError, match="loss of their own, which takes no gradient penalty, R1 or LeCam"):
        build(compose_config, [regulariser])
