"""The exponential moving average of the generator: its arithmetic, what samples from it, batch
norm statistics, the checkpoint and eval.py. (Exact resume and DDP equality: test_training.py and
test_ddp.py run a model with `model.ema_decay` too.)"""

import pytest
import torch
from lightning import Callback

from tests.helpers import compose_train_config, fit, tiny_overrides


class RecordGeneratorWeights(Callback):
    """The generator's weights and batch-norm statistics after every training step."""

    def __init__(self) -> None:
        self.weights: list[list[torch.Tensor]] = []
        self.statistics: list[list[torch.Tensor]] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.weights.append([p.detach().clone() for p in pl_module.generator.parameters()])
        self.statistics.append(running_statistics(pl_module.generator))


def running_statistics(net: torch.nn.Module) -> list[torch.Tensor]:
    return [b.detach().clone() for name, b in net.named_buffers() if name.endswith(("running_mean", "running_var"))]


def test_the_average_copies_the_generator_until_ema_start_then_follows_the_warmed_up_recursion(compose_config):
    decay, start, steps = 0.8, 2, 6
    record = RecordGeneratorWeights()
    cfg = compose_config(["model=gan", *tiny_overrides(), f"model.ema_decay={decay}", f"model.ema_start={start}"])
    _, model = fit(cfg, [record], max_steps=steps)
    expected = record.weights[start - 1]  # a copy of the generator after step `start`
    for n, weights in enumerate(record.weights[start:], start=1):
        rate = min(decay, (1 + n) / (10 + n))  # the warm-up
        expected = [rate * e + (1 - rate) * w for e, w in zip(expected, weights)]
    averaged = list(model.generator_ema.module.parameters())
    for mine, theirs in zip(averaged, expected):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-7)
    assert not any(torch.equal(a, w) for a, w in zip(averaged, record.weights[-1]))
    assert all(not p.requires_grad for p in averaged)  # never trained, nor synchronised by DDP


def test_samples_come_from_the_average_and_the_trained_generator_stays_available(compose_config):
    _, model = fit(compose_config(["model=gan", *tiny_overrides(), "model.ema_decay=0.5"]), max_steps=4)
    z = torch.randn(8, model.latent_dim)
    with torch.no_grad():
        assert torch.equal(model.sample(z), model.generator_ema.module(z))
        assert not torch.equal(model.sample(z), model.generator(z))
        model.sample_from_ema = False
        assert torch.equal(model.sample(z), model.generator(z))
    assert any(key.startswith("generator_ema.") for key in model.state_dict())  # in the checkpoint


def test_batch_norm_statistics_are_averaged_with_the_weights(compose_config):
    """Copying the current statistics beside averaged weights made a batch-norm generator's samples
    noise (README, EMA); averaged, they are as old as the weights they normalise."""
    decay = 0.9
    record = RecordGeneratorWeights()
    cfg = compose_config(["model=gan", "data=digits", *tiny_overrides("dcgan"), f"model.ema_decay={decay}"])
    _, model = fit(cfg, [record], max_steps=4)
    expected = record.statistics[0]
    for n, statistics in enumerate(record.statistics[1:], start=1):
        rate = min(decay, (1 + n) / (10 + n))
        expected = [rate * e + (1 - rate) * s for e, s in zip(expected, statistics)]
    averaged = running_statistics(model.generator_ema.module)
    assert averaged and len(averaged) == len(expected)
    for mine, theirs in zip(averaged, expected):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-7)
    assert not all(torch.equal(a, c) for a, c in zip(averaged, record.statistics[-1]))


def test_out_of_range_decays_are_refused_at_start_up(compose_config):
    from litgan.train import train
    from litgan.utils.config_checks import ConfigError

    with pytest.raises(ConfigError, match=r"model\.ema_decay=1\.5 must be > 0 and < 1"):
        train(compose_config(["model=gan", *tiny_overrides(), "model.ema_decay=1.5"]))


def test_eval_samples_from_the_average_unless_told_otherwise(compose_config, tmp_path):
    from litgan.evaluate import evaluate
    from litgan.train import train

    trained = train(compose_config(["model=gan", *tiny_overrides(steps=4), "model.ema_decay=0.5"]))
    reports = {}
    for ema in (True, False):
        cfg = compose_train_config(
            [f"ckpt_path={trained['last_model_path']}", "num_samples=64", f"ema={ema}"], tmp_path / str(ema), "eval"
        )
        reports[ema] = evaluate(cfg)
    assert reports[True]["generator"] == "ema" and reports[False]["generator"] == "trained"
    assert not torch.equal(torch.load(tmp_path / "True" / "samples.pt"), torch.load(tmp_path / "False" / "samples.pt"))
