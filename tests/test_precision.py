"""Mixed precision with manual optimisation and the gradient penalty: bf16 trains on the CPU; under
fp16 the penalty follows PyTorch's AMP recipe (scale before differentiating, unscale after), without
which its own gradients underflow."""

import math

import pytest
import torch
from hydra.utils import instantiate
from lightning import Callback, Trainer
from lightning.pytorch.plugins import MixedPrecision
from torch import nn

from litgan.losses import gradient_penalty
from litgan.models.build import build_model
from litgan.models.precision import check_finite, gradient_scaler
from tests.helpers import fit, tiny_overrides


def penalty_and_its_gradient(
    loss_scale: float | torch.Tensor | None = None, fp16: bool = False
) -> tuple[float, torch.Tensor]:
    """A critic whose input gradients are ~1e-10, below float16's smallest number (6e-8)."""
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 1))
    with torch.no_grad():
        critic[0].weight.mul_(1e-3 / critic[0].weight.abs().mean())
        critic[2].weight.mul_(1e-7 / critic[2].weight.abs().mean())
    draws = torch.Generator().manual_seed(1)
    real, fake, alpha = (
        torch.randn(8, 16, generator=draws),
        torch.randn(8, 16, generator=draws),
        torch.rand(8, generator=draws),
    )
    with torch.autocast("cpu", dtype=torch.float16, enabled=fp16):
        penalty = gradient_penalty(critic, real, fake, alpha, loss_scale=loss_scale)
    penalty.backward()
    return penalty.item(), critic[2].weight.grad.flatten()


def test_the_penalty_does_not_depend_on_the_loss_scale():
    generator = torch.Generator().manual_seed(0)
    critic = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    real, fake = torch.randn(16, 4, generator=generator), torch.randn(16, 4, generator=generator)
    alpha = torch.rand(16, generator=generator)
    assert gradient_penalty(critic, real, fake, alpha, loss_scale=4096.0).item() == pytest.approx(
        gradient_penalty(critic, real, fake, alpha).item(), rel=1e-5
    )


def test_without_a_loss_scale_the_penalty_and_its_gradients_are_those_of_scale_one_bit_for_bit():
    """Full precision skips the scaling's multiply and divide (and their double backward), which
    by 1.0 are exact: the same numbers as before, with four fewer operations per critic update."""
    results = []
    for scale in (None, 1.0):
        torch.manual_seed(0)
        critic = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
        real, fake, alpha = torch.randn(16, 4), torch.randn(16, 4), torch.rand(16)
        penalty = gradient_penalty(critic, real, fake, alpha, loss_scale=scale)
        gradients = torch.autograd.grad(penalty, list(critic.parameters()), allow_unused=True, materialize_grads=True)
        results.append([penalty, *gradients])
    for unscaled, scaled_by_one in zip(*results):
        assert torch.equal(unscaled, scaled_by_one)


def test_under_fp16_the_scaled_penalty_keeps_the_gradient_that_the_plain_one_loses():
    _, exact = penalty_and_its_gradient()
    _, plain = penalty_and_its_gradient(fp16=True)
    _, scaled = penalty_and_its_gradient(loss_scale=4096.0, fp16=True)
    assert exact.abs().mean() > 1e-4
    assert plain.abs().max() == 0  # the input gradients underflowed: no signal toward norm 1
    assert torch.nn.functional.cosine_similarity(exact, scaled, dim=0) > 0.95
    assert scaled.abs().mean() == pytest.approx(exact.abs().mean().item(), rel=0.1)
    # the scale as the gradient scaler holds it, a tensor, so that reading it needs no device sync
    _, scaled_by_tensor = penalty_and_its_gradient(loss_scale=torch.tensor(4096.0), fp16=True)
    torch.testing.assert_close(scaled_by_tensor, scaled)


@pytest.mark.parametrize(("data", "architecture"), [("digits", "dcgan"), ("ring", "mlp")])  # image grids; scatter plots
def test_bf16_mixed_trains_wgan_gp_with_manual_optimisation(compose_config, data, architecture):
    from litgan.train import train

    cfg = compose_config(
        ["model=wgan_gp", f"data={data}", *tiny_overrides(architecture, steps=3), "trainer.precision=bf16-mixed",
         "trainer.log_every_n_steps=1"]
    )  # fmt: skip
    metrics = train(cfg)
    assert metrics["train/g_step"] == 3.0
    for name in ("train/d_loss", "train/g_loss", "train/gp"):
        assert math.isfinite(metrics[name]), name


class ValidationFakes(Callback):
    def __init__(self) -> None:
        self.fakes: list[torch.Tensor] = []

    def on_validation_batch_end(self, trainer, pl_module, outputs, *args):
        self.fakes.append(outputs["fake"])


def test_validation_outputs_are_computed_at_full_precision_under_mixed_precision(compose_config):
    cfg = compose_config(["model=wgan_gp", "data=ring", *tiny_overrides()])
    datamodule = instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    fakes = {}
    for precision in ("32-true", "bf16-mixed"):
        captured = ValidationFakes()
        Trainer(accelerator="cpu", precision=precision, logger=False, callbacks=[captured], limit_val_batches=2,
                enable_progress_bar=False, enable_model_summary=False).validate(model, datamodule=datamodule)  # fmt: skip
        fakes[precision] = torch.cat(captured.fakes)
    assert fakes["bf16-mixed"].dtype == torch.float32
    assert torch.equal(fakes["bf16-mixed"], fakes["32-true"])


def fp16_trainer(steps: int = 0, init_scale: float = 2.0**16) -> Trainer:
    """Lightning accepts `precision="16-mixed"` on GPUs only; its plugin with a CPU gradient
    scaler runs the same fp16 code path (autocast, scaled backward, skipped steps) on the CPU."""
    scaler = torch.amp.GradScaler("cpu", init_scale=init_scale)
    return Trainer(
        accelerator="cpu",
        plugins=[MixedPrecision("16-mixed", "cpu", scaler)],
        max_steps=steps,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        limit_val_batches=0,
        log_every_n_steps=1,
    )


def test_fp16_mixed_trains_wgan_gp_through_the_gradient_scaler(compose_config):
    cfg = compose_config(["model=wgan_gp", "data=digits", *tiny_overrides("dcgan", steps=4)])
    datamodule = instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    before = [p.detach().clone() for p in model.discriminator.parameters()]
    trainer = fp16_trainer(steps=4)
    trainer.fit(model, datamodule=datamodule)
    # the first updates overflowed at the initial scale 2^16: the scaler skipped them and lowered it
    assert trainer.precision_plugin.scaler.get_scale() < 2.0**16
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, model.discriminator.parameters()))
    for name in ("train/d_loss", "train/g_loss", "train/gp"):
        assert math.isfinite(trainer.callback_metrics[name]), name


@pytest.mark.skipif(not torch.cuda.is_available(), reason="Lightning's 16-mixed flag needs a CUDA device")
def test_fp16_mixed_trains_wgan_gp_on_a_gpu(compose_config):
    cfg = compose_config(["model=wgan_gp", "data=digits", *tiny_overrides("dcgan")])
    _, model = fit(cfg, accelerator="gpu", max_steps=20, precision="16-mixed", log_every_n_steps=1)
    assert gradient_scaler(model.trainer) is model.trainer.precision_plugin.scaler and model.critic_updates == 20 * 5
    assert all(torch.isfinite(p).all() for p in model.parameters())
    for name in ("train/d_loss", "train/g_loss", "train/gp"):
        assert math.isfinite(model.trainer.callback_metrics[name]), name


@pytest.mark.parametrize(("init_scale", "diverged"), [(1024.0, False), (0.5, True)])
def test_under_fp16_a_non_finite_loss_is_the_scalers_until_its_scale_falls_below_1(
    compose_config, init_scale, diverged
):
    cfg = compose_config(["model=wgan_gp", "data=digits", *tiny_overrides("dcgan")])
    model = build_model(cfg, instantiate(cfg.data))
    model.trainer = fp16_trainer(init_scale=init_scale)
    losses = {"d_loss": torch.tensor(float("nan"))}
    if diverged:
        with pytest.raises(FloatingPointError, match="Training diverged"):
            check_finite(losses, gradient_scaler(model.trainer), step=0)
    else:
        check_finite(losses, gradient_scaler(model.trainer), step=0)  # the scaler skips this update, halves its scale
