"""BiGAN: an encoder learnt with the generator against a discriminator of (x, z) pairs."""

import pytest
import torch
from hydra.utils import instantiate

from litgan.evaluate import evaluate
from litgan.models import BiGAN, Capability
from litgan.models.build import build_model
from litgan.train import train
from tests.helpers import compose_train_config, tiny_overrides

CASES = {
    "ring-mlp": ["data=ring", *tiny_overrides("mlp", steps=4)],
    "digits-dcgan": ["data=digits", *tiny_overrides("dcgan", steps=4)],
}


def test_the_encoder_maps_samples_to_codes_and_the_discriminator_scores_pairs(compose_config):
    cfg = compose_config(["model=bigan", *CASES["digits-dcgan"]])
    model = build_model(cfg, instantiate(cfg.data))
    assert isinstance(model, BiGAN) and model.capabilities == Capability.SAMPLE | Capability.ENCODE
    x = torch.rand(5, 1, 32, 32) * 2 - 1
    z = model.encode(x)
    assert z.shape == (5, model.latent_dim) and model.sample(z).shape == x.shape
    assert model.discriminator(x, z).shape == (5,)
    # G and E train together against D: one optimiser for both, the other for D
    opt_g, opt_d = model.configure_optimizers()[0]
    assert sum(p.numel() for g in opt_g.param_groups for p in g["params"]) == sum(
        p.numel() for p in model.generator.parameters()
    )
    assert {"decoder", "encoder"} == set(model.generator.keys())


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bigan_trains_logs_how_well_e_and_g_invert_each_other_and_eval_reports_it(compose_config, tmp_path, case):
    metrics = train(compose_config(["model=bigan", *CASES[case]]))
    assert {"val/reconstruction_error", "val/latent_error", "train/d_loss"} <= set(metrics)
    assert metrics["val/reconstruction_error"] > 0 and metrics["val/latent_error"] > 0

    eval_overrides = [f"ckpt_path={metrics['last_model_path']}", "num_samples=64"]
    report = evaluate(compose_train_config(eval_overrides, tmp_path / "eval", "eval"))
    assert {"val/reconstruction_error", "val/latent_error"} <= set(report["metrics"])
    assert (tmp_path / "eval" / "reconstructions.png").is_file() and (tmp_path / "eval" / "samples.png").is_file()


def test_the_gradient_penalty_works_on_pairs(compose_config):
    overrides = ["model=bigan", "loss=wasserstein", "model.gradient_penalty_weight=10", *CASES["ring-mlp"]]
    metrics = train(compose_config(overrides))
    assert metrics["train/gp"] > 0 and torch.isfinite(torch.tensor(metrics["train/g_loss"]))  # the pairs' penalty is on


class RoundTrip:
    """A stand-in encoding model whose round trip G(E(x)) is `round_trip(x)`."""

    capabilities = Capability.SAMPLE | Capability.ENCODE
    device = torch.device("cpu")

    def __init__(self, round_trip) -> None:
        self.round_trip = round_trip

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.round_trip(x)

    def sample(self, z: torch.Tensor) -> torch.Tensor:
        return z


def test_the_round_trip_accuracy_is_the_classifiers_own_for_a_perfect_inverse_and_chance_for_a_constant(
    digits_classifier,
):
    from litgan.data import DigitsDataModule
    from litgan.metrics.domain_classifier import load_or_train
    from litgan.metrics.evaluator import ImageMetricEvaluator

    digits = DigitsDataModule()
    evaluator = ImageMetricEvaluator("domain", batch_size=100, cache_dir=str(digits_classifier))
    assert evaluator.prepare(digits)
    classifier, held_out_accuracy = load_or_train(digits, digits_classifier)
    perfect = evaluator.round_trip(RoundTrip(lambda x: x), digits)["reconstruction_class_accuracy"]
    assert perfect == pytest.approx(held_out_accuracy)

    images, labels = digits.split_tensors("val")[:2]
    one_digit = classifier(images[:1])[1].argmax()
    constant = evaluator.round_trip(RoundTrip(lambda x: images[:1].expand_as(x)), digits)
    assert constant["reconstruction_class_accuracy"] == pytest.approx((labels == one_digit).float().mean().item())
    assert constant["reconstruction_class_accuracy"] < 0.15  # one digit of ten


def test_with_the_digit_classifier_bigan_logs_and_eval_reports_the_round_trip_accuracy(
    compose_config, digits_classifier, tmp_path
):
    domain = ["metrics=domain", f"paths.cache_dir={digits_classifier}"]
    metrics = train(compose_config(["model=bigan", *CASES["digits-dcgan"], *domain, "metrics.num_samples=100"]))
    assert 0 <= metrics["val/reconstruction_class_accuracy"] <= 1
    assert metrics["val/reconstruction_class_accuracy_best"] == metrics["val/reconstruction_class_accuracy"]

    eval_overrides = [f"ckpt_path={metrics['last_model_path']}", "num_samples=64", *domain]
    report = evaluate(compose_train_config(eval_overrides, tmp_path / "eval", "eval"))
    assert report["metrics"]["val/reconstruction_class_accuracy"] == pytest.approx(
        metrics["val/reconstruction_class_accuracy"]
    )
