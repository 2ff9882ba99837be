"""StarGAN: domain labels, the nets, target domains, losses by hand, which parameters each step
moves, refusals, the translation measures, CelebA, exact resume."""

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from hydra.utils import instantiate
from torch.nn import functional as F
from torchvision.transforms.functional import gaussian_blur

from litgan.data import ShapeDomainsDataModule
from litgan.data.shapes import ATTRIBUTES, decode_domains, encode_domains, render
from litgan.metrics.translation import TranslationJudge
from litgan.models.build import build_model
from litgan.nets import ResnetGenerator, StarGANDiscriminator
from litgan.utils.random import ShardedGenerator
from tests.helpers import CLASSIFIER_SAMPLES, fit_model, stargan_overrides, straight_and_resumed


def build(compose_config, extra=()):
    cfg = compose_config([*stargan_overrides(), *extra])
    datamodule = instantiate(cfg.data)
    return cfg, datamodule, build_model(cfg, datamodule)


def test_domain_labels_are_one_hot_groups_and_bits_and_decode_back():
    codes = torch.tensor([[0, 2, 1, 0], [2, 0, 0, 1]])  # shape, colour, size, background
    labels = encode_domains(codes, ("color", "background", "size"))
    assert labels.tolist() == [[0, 0, 1, 0, 1], [1, 0, 0, 1, 0]]
    assert decode_domains(labels, ("color", "background", "size")).tolist() == [[2, 0, 1], [0, 1, 0]]
    dm = ShapeDomainsDataModule(num_samples=64, num_val_samples=8)
    dm.setup()
    images, labels, codes = dm.train_tensors
    assert dm.domain_groups == [3, 1] and labels.shape == (64, 4)
    assert torch.equal(labels, encode_domains(codes, ("color", "size")))
    assert (codes[:, 3] == ATTRIBUTES["background"].index("dark")).all()  # one background by default
    with pytest.raises(ValueError, match="data.domains must name some of"):
        ShapeDomainsDataModule(domains=("hue",))
    with pytest.raises(ValueError, match="set data.background=null to translate between backgrounds"):
        ShapeDomainsDataModule(domains=("color", "background"))
    both = ShapeDomainsDataModule(domains=("color", "background"), background=None, num_samples=64)
    both.setup()
    assert set(both.train_tensors[2][:, 3].tolist()) == {0, 1}


def test_generator_reads_the_target_domain_and_discriminator_has_two_heads():
    G = ResnetGenerator((3, 32, 32), features=4, num_blocks=1, extra_channels=4)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    red, blue = torch.tensor([[1.0, 0, 0, 0]] * 2), torch.tensor([[0, 0, 1.0, 1]] * 2)
    assert G(x, red).shape == x.shape
    assert (G(x, red) - G(x, blue)).abs().mean() > 1e-3 * G(x, red).abs().mean()  # more than float noise
    domain = red.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(G(x, domain).square().sum(), domain)
    assert grad.abs().min() > 1e-6  # every label entry reaches the output, through the instance norms
    conditioned = [m for m in G.modules() if isinstance(m, torch.nn.Conv2d)][0]
    assert conditioned.in_channels == 7 and conditioned.bias is None
    before = G(x, red)
    with torch.no_grad():  # the centre taps on the constant planes add a constant that instance norm removes
        conditioned.weight[:, 3:, 3, 3] += 1.0
    torch.testing.assert_close(G(x, red), before, atol=1e-5, rtol=0)
    D = StarGANDiscriminator((3, 32, 32), num_domains=4, features=4)
    scores, logits = D(x)
    assert scores.shape == (2, 4) and logits.shape == (2, 4)  # a 2x2 map of patches; one logit per domain
    assert len(StarGANDiscriminator((3, 128, 128), 5, features=2).trunk) == 12  # the paper's 6 layers at 128 px
    with pytest.raises(ValueError, match="power of two"):
        StarGANDiscriminator((3, 48, 48), 4)


def test_random_targets_are_valid_labels_and_single_edits_change_one_group(compose_config):
    _, _, model = build(compose_config)
    targets = model.random_targets(4000)
    assert torch.equal(targets[:, :3].sum(1), torch.ones(4000))  # colour: exactly one
    assert targets[:, :3].mean(0) == pytest.approx([1 / 3] * 3, abs=0.03)
    assert targets[:, 3].mean() == pytest.approx(0.5, abs=0.03)
    labels = torch.tensor([[1.0, 0, 0, 0], [0, 0, 1, 1]])
    edits = model.single_edits(labels)
    assert [e.tolist() for e in edits] == [
        [[1, 0, 0, 0], [1, 0, 0, 1]],  # to red
        [[0, 1, 0, 0], [0, 1, 0, 1]],  # to green
        [[0, 0, 1, 0], [0, 0, 1, 1]],  # to blue
        [[1, 0, 0, 1], [0, 0, 1, 0]],  # size flipped
    ]


def by_hand_targets(replay: ShardedGenerator, n: int) -> torch.Tensor:
    """The model's draws for groups [3, 1], in its order: a colour, then a bit."""
    return torch.cat([F.one_hot(replay.randint(3, n), 3).float(), (replay.rand(n, 1) < 0.5).float()], dim=1)


def test_discriminator_loss_by_hand(compose_config):
    cfg, _, model = build(compose_config)
    G, D = model.generator, model.discriminator
    x, labels = torch.rand(3, 3, 32, 32) * 2 - 1, torch.tensor([[1.0, 0, 0, 0], [0, 1, 0, 1], [0, 0, 1, 1]])
    replay = ShardedGenerator(cfg.seed)
    terms = model.critic_loss(x, labels)
    loss, gp = terms.loss, terms.penalty
    fake = G(x, by_hand_targets(replay, 3)).detach()
    alpha = replay.rand(3).view(3, 1, 1, 1)
    mixed = (alpha * x + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(mixed)[0].sum(), mixed)
    penalty = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
    logits = D(x)[1]
    classification = -(labels * F.logsigmoid(logits) + (1 - labels) * F.logsigmoid(-logits)).sum() / 3
    expected = D(fake)[0].mean() - D(x)[0].mean() + 10 * penalty + 1 * classification
    torch.testing.assert_close(gp, penalty)
    torch.testing.assert_close(loss, expected)


@pytest.mark.parametrize("identity_weight", [0.0, 5.0])  # the paper's objective, and with the identity term
def test_generator_loss_by_hand(compose_config, identity_weight):
    cfg, _, model = build(compose_config, [f"model.identity_weight={identity_weight}"])
    G, D = model.generator, model.discriminator
    x, labels = torch.rand(3, 3, 32, 32) * 2 - 1, torch.tensor([[1.0, 0, 0, 0], [0, 1, 0, 1], [0, 0, 1, 1]])
    replay = ShardedGenerator(cfg.seed)
    loss = model.generator_loss(x, labels)
    target = by_hand_targets(replay, 3)
    fake = G(x, target)
    scores, logits = D(fake)
    classification = -(target * F.logsigmoid(logits) + (1 - target) * F.logsigmoid(-logits)).sum() / 3
    reconstruction = (G(fake, labels) - x).abs().mean()
    identity = (G(x, labels) - x).abs().mean()
    expected = -scores.mean() + 1 * classification + 10 * reconstruction + identity_weight * identity
    torch.testing.assert_close(loss, expected)


def test_the_preset_carries_the_papers_hyperparameters(compose_config):
    cfg = compose_config(["model=stargan"])
    m = cfg.model
    assert (m.n_critic, m.gradient_penalty_weight, m.classification_weight, m.reconstruction_weight) == (5, 10, 1, 10)
    assert m.identity_weight == 0  # not part of the paper's objective
    assert (m.optimizer_g.lr, list(m.optimizer_g.betas), m.optimizer_d.lr) == (1e-4, [0.5, 0.999], 1e-4)
    assert cfg.loss._target_ == "litgan.losses.WassersteinLoss" and m.scheduler_g.decay_start == 0.5
    assert cfg.architecture.generator.num_blocks == 6 and cfg.data.batch_size == 16


def test_stargan_and_the_data_it_needs_refuse_everything_else(compose_config):
    for data in ("ring", "digits", "shapes", "unpaired_shapes"):
        cfg = compose_config(["model=stargan", f"data={data}"])
        with pytest.raises(ValueError, match="StarGAN trains on images labelled with attribute domains"):
            build_model(cfg, instantiate(cfg.data))
    cfg = compose_config(["model=cyclegan", "data=shape_domains"])
    with pytest.raises(ValueError, match="CycleGAN trains on two unpaired image domains"):
        build_model(cfg, instantiate(cfg.data))
    cfg = compose_config(["model=stargan", "architecture=resnet_patchgan"])
    with pytest.raises(ValueError, match="needs .* a discriminator with a domain classifier.*use architecture=stargan"):
        build_model(cfg, instantiate(cfg.data))


def test_stargan_trains_and_resumes_exactly(compose_config, tmp_path):
    straight, trainer, resumed, _ = straight_and_resumed(compose_config, stargan_overrides(steps=6), 6, tmp_path)
    for (name, p), q in zip(straight.named_parameters(), resumed.parameters()):
        assert torch.equal(p, q), name
    decayed = trainer.optimizers[0].param_groups[0]["lr"]
    assert decayed == pytest.approx(1e-4 * (1 - 3 / 3))  # linear decay over the second half, to 0


def test_stargan_trains_on_celeba_files(compose_config, tmp_path):
    from tests.helpers import write_celeba

    write_celeba(tmp_path / "celeba", n=8)
    cfg = compose_config(
        [
            *[o for o in stargan_overrides(steps=2) if not o.startswith("data.")],
            "data=celeba",
            f"paths.data_dir={tmp_path}",
            "data.image_size=32",
            "data.val_count=2",
            "data.num_workers=0",
            "data.val_batch_size=2",
            "data.batch_size=1",
        ]
    )
    datamodule = instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    assert model.domain_groups == [3, 1, 1]  # hair colour, Male, Young
    trainer = fit_model(model, datamodule, max_steps=2)
    assert trainer.global_step == 2 and model.critic_updates == 10
    logged = trainer.callback_metrics  # StarGAN's own terms come with the step's losses
    assert {"train/d_classification", "train/g_classification", "train/reconstruction"} <= logged.keys()


def measure(cache: Path, datamodule, batch, outputs) -> dict[str, float]:
    judge = TranslationJudge(datamodule.image_size, str(cache), classifier_samples=CLASSIFIER_SAMPLES)
    judge.update(*datamodule.expected_attributes(batch, outputs), outputs)
    return {name: value.item() for name, value in judge.compute().items()}


def test_translation_measures_reward_the_right_translation_and_catch_the_wrong_ones(compose_config, shape_classifiers):
    """Judged on translations whose truth is known: scenes rendered with the target attributes
    score (near) 1; returning the input fails every size flip; scrambling shapes loses content."""
    import numpy as np

    _, datamodule, model = build(compose_config, ["data.num_val_samples=200", "data.val_batch_size=200"])
    datamodule.setup()
    images, labels, codes = datamodule.val_tensors
    model.on_validation_epoch_start()
    outputs = model.validation_step((images, labels, codes), 0)
    expected, controlled = datamodule.expected_attributes((images, labels, codes), outputs)
    assert controlled == ("color", "size")
    assert model.sample_grid((images, labels, codes), 3).images.shape == (
        15,
        3,
        32,
        32,
    )  # the inputs, then one row per edit

    def outputs_with(translated):
        return {**outputs, "fake": translated, "reconstructed": images}

    truth = render(expected.numpy(), np.random.default_rng(1))
    perfect = measure(shape_classifiers, datamodule, (images, labels, codes), outputs_with(truth))
    assert perfect["translation_success"] > 0.97 and perfect["content_preserved"] > 0.97
    assert perfect["cycle_error"] == 0 and perfect["accuracy_color"] > 0.97
    # the classifiers judge attributes, not sharpness: a blurred right translation still counts
    blurred = measure(
        shape_classifiers, datamodule, (images, labels, codes), outputs_with(gaussian_blur(truth, 5, 1.0))
    )
    assert blurred["translation_success"] > 0.95 and blurred["content_preserved"] > 0.95

    identity = measure(shape_classifiers, datamodule, (images, labels, codes), outputs_with(images))
    # a quarter of the edits ask for the colour the image already has; size flips always fail
    assert identity["translation_success"] == pytest.approx(0.25, abs=0.05)
    assert identity["accuracy_size"] == pytest.approx(0.75, abs=0.05)  # right only where not asked to flip
    assert (
        identity["accuracy_color"] == pytest.approx(0.25 + 0.75 / 3, abs=0.05) and identity["content_preserved"] > 0.97
    )

    scrambled = expected.clone()
    scrambled[:, 0] = (scrambled[:, 0] + 1) % len(ATTRIBUTES["shape"])  # right domains, wrong shape
    wrong_shape = measure(
        shape_classifiers,
        datamodule,
        (images, labels, codes),
        outputs_with(render(scrambled.numpy(), np.random.default_rng(2))),
    )
    assert wrong_shape["translation_success"] > 0.97 and wrong_shape["content_preserved"] < 0.03
    assert wrong_shape["accuracy_shape"] < 0.03 and wrong_shape["accuracy_background"] > 0.97  # which content was lost


def test_eval_measures_a_translation_checkpoint(compose_config, shape_classifiers, tmp_path):
    from litgan.evaluate import evaluate
    from litgan.train import train
    from tests.helpers import compose_train_config

    cache = [
        f"paths.cache_dir={shape_classifiers}",
        f"callbacks.translation_measures.classifier_samples={CLASSIFIER_SAMPLES}",
    ]
    one_val_batch = [o for o in stargan_overrides(steps=2) if not o.startswith("data.val_batch_size")]
    metrics = train(compose_config([*one_val_batch, "data.val_batch_size=16", *cache]))
    assert {"val/translation_success", "val/content_preserved", "val/cycle_error", "val/accuracy_color"} <= set(metrics)
    cfg = compose_train_config([f"ckpt_path={metrics['last_model_path']}", cache[0]], tmp_path / "eval", "eval")
    report = evaluate(cfg)
    assert report["num_translated"] == 16 and report["generator_step"] == 2
    assert report["metrics"]["val/cycle_error"] == pytest.approx(metrics["val/cycle_error"], rel=1e-5)
    assert (tmp_path / "eval" / "metrics.json").is_file() and (tmp_path / "eval" / "samples.png").is_file()
    overrides = [f"ckpt_path={metrics['last_model_path']}", "metrics=domain"]
    cfg = compose_train_config(overrides, tmp_path / "eval_with_metrics", "eval")
    with pytest.raises(ValueError, match="StarGAN translates images.*leave out metrics="):
        evaluate(cfg)


def test_noise_sample_metrics_refuse_translation_models_at_start_up(compose_config):
    cfg = compose_config([*stargan_overrides(), "metrics=inception"])
    datamodule = instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    callback = instantiate(cfg.metrics)
    with pytest.raises(ValueError, match="StarGAN translates images.*leave out metrics="):
        callback.setup(SimpleNamespace(datamodule=datamodule), model, "fit")
