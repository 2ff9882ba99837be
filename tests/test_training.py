"""The training loop: alternation, Lipschitz constraints, logging, divergence, exact resume."""

import csv
import itertools
from functools import partial
from types import SimpleNamespace

import pytest
import torch
from hydra.utils import instantiate
from lightning import Callback

from litgan.callbacks import StepProgressBar, progress
from litgan.models.build import build_model
from litgan.train import train
from litgan.utils.errors import ConfigError
from tests.helpers import cyclegan_overrides, fit, fit_model, stargan_overrides, straight_and_resumed, tiny_overrides

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


class CountSteps(Callback):
    def on_train_start(self, trainer, pl_module):
        self.counts = {"g": 0, "d": 0}
        opt_g, opt_d = trainer.optimizers
        opt_g.register_step_post_hook(lambda *_: self.counts.__setitem__("g", self.counts["g"] + 1))
        opt_d.register_step_post_hook(lambda *_: self.counts.__setitem__("d", self.counts["d"] + 1))


@pytest.mark.parametrize("model_name,n_critic", [("gan", 1), ("wgan", 5), ("wgan_gp", 5)])
def test_n_critic_updates_per_generator_update_and_max_steps_counts_generator_updates(
    compose_config, model_name, n_critic
):
    cfg = compose_config([f"model={model_name}", *tiny_overrides(steps=7)])
    counter = CountSteps()
    trainer, model = fit(cfg, [counter])
    assert counter.counts == {"g": 7, "d": 7 * n_critic}
    assert trainer.global_step == 7 and model.critic_updates == 7 * n_critic


@pytest.mark.parametrize("n_critic", [5, 3])
def test_each_critic_update_gets_its_own_real_minibatch(compose_config, n_critic):
    """n_critic has one source, the model: the datamodule takes it from there."""
    cfg = compose_config(["model=wgan_gp", f"model.n_critic={n_critic}", *tiny_overrides(steps=1)])
    datamodule = instantiate(cfg.data)
    build_model(cfg, datamodule)
    datamodule.setup()
    batch = next(iter(datamodule.train_dataloader()))
    assert batch[0].shape == (16 * n_critic, 2)


def test_weight_clipping_keeps_the_critic_in_the_box(compose_config):
    cfg = compose_config(["model=wgan", *tiny_overrides(steps=3), "model.optimizer_d.lr=0.1"])
    _, model = fit(cfg)
    assert max(p.abs().max().item() for p in model.discriminator.parameters()) <= 0.01 + 1e-7


STEPPED_FAMILIES = {
    "gan": ["model=gan", *tiny_overrides(steps=1)],
    "bigan": ["model=bigan", *tiny_overrides(steps=1)],
    "cyclegan": cyclegan_overrides(steps=1),
    "stargan": stargan_overrides(steps=1),
}


@pytest.mark.parametrize("family", STEPPED_FAMILIES)
@pytest.mark.parametrize("frozen,moving", [("optimizer_g", "discriminator"), ("optimizer_d", "generator")])
def test_each_optimiser_moves_every_net_of_its_side_and_nothing_else(compose_config, family, frozen, moving):
    """With the other optimiser frozen, one generator step moves only the nets of `moving`: all of
    them (CycleGAN's two discriminators, StarGAN's two heads, BiGAN's decoder and encoder)."""
    cfg = compose_config(STEPPED_FAMILIES[family])
    datamodule = instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    setattr(model, frozen, partial(torch.optim.SGD, lr=0.0))
    fit_model(model, datamodule, max_steps=1)
    moved = {name for name, p in model.named_parameters() if not torch.equal(p, before[name])}
    side = {name for name in before if name.startswith(f"{moving}.")}
    assert moved and moved <= side
    second_level = lambda names: {name.split(".")[1] for name in names}  # noqa: E731
    assert second_level(moved) == second_level(side)
    assert model.critic_updates == cfg.model.n_critic


@pytest.mark.parametrize("accelerator", ["cpu", pytest.param("gpu", marks=needs_cuda)])
def test_batches_are_drawn_on_the_training_device_and_optimisers_update_all_tensors_at_once(
    compose_config, accelerator
):
    _, model = fit(compose_config(["model=wgan_gp", *tiny_overrides()]), accelerator=accelerator)
    device = "cuda" if accelerator == "gpu" else "cpu"
    loader = model.trainer.datamodule.train_dataloader()
    assert {tensor.device.type for tensor in loader.tensors} == {device}
    assert loader.indices.generator.device.type == device
    assert all(optimizer.defaults["fused"] for optimizer in model.trainer.optimizers)


def test_rmsprop_updates_all_tensors_at_once_with_the_numbers_of_the_loop_over_tensors(compose_config):
    overrides = ["model=wgan", *tiny_overrides(steps=3)]
    per_tensor = ["+model.optimizer_g.foreach=false", "+model.optimizer_d.foreach=false"]
    _, multi_tensor_model = fit(compose_config(overrides))
    _, per_tensor_model = fit(compose_config(overrides + per_tensor))
    for a, b in zip(multi_tensor_model.parameters(), per_tensor_model.parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("model_name", ["wgan_gp", "bigan"])  # Adam; Adam with weight decay
def test_fused_cpu_optimisers_are_the_default_and_differ_from_torchs_loop_only_in_the_last_bits(
    compose_config, model_name
):
    """README "Speed": on the CPU, fused Adam is faster; `fused=false` gives torch's loop over tensors."""
    overrides = [f"model={model_name}", *tiny_overrides(steps=3)]
    looped = ["+model.optimizer_g.fused=false", "+model.optimizer_d.fused=false"]
    _, fused_model = fit(compose_config(overrides))
    _, looped_model = fit(compose_config(overrides + looped))
    assert all(optimizer.defaults["fused"] for optimizer in fused_model.trainer.optimizers)
    assert not any(optimizer.defaults["fused"] for optimizer in looped_model.trainer.optimizers)
    pairs = list(zip(looped_model.parameters(), fused_model.parameters(), strict=True))
    assert all(torch.allclose(a, b, rtol=0, atol=1e-6) for a, b in pairs)
    assert any(not torch.equal(a, b) for a, b in pairs)


def test_logged_keys_and_returned_metrics(compose_config):
    cfg = compose_config(["model=wgan_gp", *tiny_overrides(steps=4), "trainer.log_every_n_steps=1"])
    metrics = train(cfg)
    for key in (
        "train/d_loss",
        "train/g_loss",
        "train/gp",
        "train/d_real",
        "train/d_fake",
        "train/g_step",
        "train/d_step",
        "val/modes",
        "val/hq_fraction",
        "val/reverse_kl",
    ):
        assert key in metrics, key
    assert metrics["train/d_step"] == 5 * metrics["train/g_step"]
    assert 0 <= metrics["val/modes"] <= 8 and metrics["last_model_path"].endswith("last.ckpt")


def test_divergence_stops_with_a_clear_error_and_keeps_earlier_checkpoints(compose_config, tmp_path):
    cfg = compose_config(["model=gan", *tiny_overrides(steps=6)])
    from lightning.pytorch.callbacks import ModelCheckpoint

    class PoisonAfter(Callback):
        def on_train_batch_end(self, trainer, pl_module, *args):
            if trainer.global_step == 3:
                with torch.no_grad():
                    next(pl_module.generator.parameters()).fill_(float("nan"))

    ckpt = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=2, save_last=True, save_top_k=-1)
    with pytest.raises(FloatingPointError, match="Training diverged"):
        fit(cfg, [PoisonAfter(), ckpt], enable_checkpointing=True)
    saved = torch.load(tmp_path / "ckpt" / "last.ckpt", weights_only=False)
    assert saved["global_step"] == 2
    assert all(torch.isfinite(v).all() for v in saved["state_dict"].values())


def flat_state(model, trainer):
    params = torch.cat([p.detach().flatten() for p in model.parameters()])
    opt_state = [torch.cat([s["exp_avg"].flatten() for s in opt.state.values()]) for opt in trainer.optimizers]
    return params, opt_state


@pytest.mark.parametrize(
    "model_name,data,options",
    [
        ("wgan_gp", "ring", []),
        ("gan", "ring", []),
        ("gan", "ring", ["model.ema_decay=0.9", "model.ema_start=3"]),  # the averaged generator resumes too
        ("cgan", "digits", []),
        ("bigan", "ring", []),
        ("sngan", "ring", []),
        # lazy R1 on every second critic update, and LeCam's anchors, which the checkpoint carries
        ("gan", "ring", ["model.r1_gamma=1.0", "model.r1_every=2", "model.lecam_weight=0.1"]),
        # style mixing and noise maps drawn each pass, lazy R1 and path lengths (their target resumes)
        ("stylegan2", "digits", ["model.r1_every=2", "model.path_length_every=2"]),
    ],
)
def test_resume_equals_uninterrupted_training(compose_config, tmp_path, model_name, data, options):
    """Train 2N steps; train N, save, resume for N more (mid-epoch): same parameters and optimiser state."""
    n = 5
    architecture = "stylegan2" if model_name == "stylegan2" else "mlp"
    overrides = [f"model={model_name}", f"data={data}", *tiny_overrides(architecture, steps=2 * n), *options]
    straight, straight_trainer, resumed, resumed_trainer = straight_and_resumed(
        compose_config, overrides, 2 * n, tmp_path
    )
    assert resumed_trainer.global_step == 2 * n and resumed.critic_updates == straight.critic_updates
    params_a, opt_a = flat_state(straight, straight_trainer)
    params_b, opt_b = flat_state(resumed, resumed_trainer)
    assert torch.equal(params_a, params_b)
    assert all(torch.equal(a, b) for a, b in zip(opt_a, opt_b))


def test_a_nan_loss_stops_training_with_the_step_named(compose_config):
    cfg = compose_config(["model=wgan_gp", *tiny_overrides(steps=6)])

    class PoisonData(Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            if trainer.global_step == 2:
                batch[0][0, 0] = float("nan")

    with pytest.raises(FloatingPointError, match=r"Training diverged: \{'d_loss': nan.* at generator step 3"):
        fit(cfg, [PoisonData()], log_every_n_steps=1)


def test_learning_rate_schedulers_step_once_per_generator_update_and_resume(compose_config, tmp_path):
    scheduler = "{_target_: torch.optim.lr_scheduler.StepLR, _partial_: true, step_size: 2, gamma: 0.5}"
    cfg = compose_config(
        [
            "model=wgan_gp",
            *tiny_overrides(steps=5),
            f"+model.scheduler_g={scheduler}",
            f"+model.scheduler_d={scheduler}",
        ]
    )
    trainer, _ = fit(cfg)
    assert [opt.param_groups[0]["lr"] for opt in trainer.optimizers] == [1e-4 * 0.25, 1e-4 * 0.25]


def test_gradient_penalty_with_a_batch_norm_critic_is_refused(compose_config):
    cfg = compose_config(
        [
            "model=wgan_gp",
            "data=digits",
            *tiny_overrides("dcgan"),
            "architecture.discriminator.norm=batch",
        ]
    )
    with pytest.raises(ConfigError, match="gradient penalty is defined per example.*batch norm"):
        build_model(cfg, instantiate(cfg.data))


@pytest.mark.parametrize("logger", ["none", "csv", "tensorboard", "many"])  # wandb alone: test_tracking.py
def test_every_logger_choice_trains_with_the_default_callbacks(compose_config, logger):
    cfg = compose_config(["model=wgan_gp", *tiny_overrides(steps=2), f"logger={logger}"])
    assert train(cfg)["train/g_step"] == 2


def test_step_metrics_are_logged_every_n_steps_across_epochs_shorter_than_that(compose_config, tmp_path):
    # 400 samples make epochs of 5 generator steps (16 x 5 samples each); logging every 3
    overrides = ["model=wgan_gp", *tiny_overrides(steps=10), "data.num_samples=400", "trainer.log_every_n_steps=3"]
    train(compose_config(overrides))
    rows = list(csv.DictReader(next(tmp_path.glob("csv/**/metrics.csv")).open()))
    assert [int(row["step"]) for row in rows if row.get("train/g_loss")] == [3, 6, 9]  # generator steps


def test_the_progress_bar_updates_at_its_refresh_rate_and_shows_the_last_step(compose_config, monkeypatch):
    """Gathering the step's metrics for the bar after every step costs Python time that fast steps
    notice; the bar is drawn `refresh_rate` times a second, so it is updated no more often. The
    bar's clock is made to advance 1/16 s per step, a quarter of its refresh interval."""
    ticks = itertools.count(1)
    monkeypatch.setattr(progress, "time", SimpleNamespace(monotonic=lambda: next(ticks) / 16))
    bar = StepProgressBar(refresh_rate=4)
    shown = []
    update = bar._update
    bar._update = lambda task, current, **kwargs: (shown.append(current), update(task, current, **kwargs))
    fit(compose_config(["model=wgan_gp", *tiny_overrides(steps=30)]), callbacks=[bar], enable_progress_bar=True)
    assert shown == [1, 5, 9, 13, 17, 21, 25, 29, 30]
    task = bar.progress.tasks[bar.train_progress_bar_id]  # one bar for the run, counting generator steps
    assert (task.description, task.completed, task.total) == ("Generator steps", 30, 30)


@pytest.mark.parametrize("data,architecture,reads", [("ring", "mlp", True), ("digits", "dcgan", False)])
def test_validation_generates_samples_only_where_a_callback_reads_them(compose_config, data, architecture, reads):
    """The scatter plot and the mode coverage read the samples of 2-D points; an image model's
    picture and metrics generate their own."""

    class Outputs(Callback):
        def on_validation_batch_end(self, trainer, pl_module, outputs, *args):
            self.outputs = outputs

    seen = Outputs()
    cfg = compose_config(["model=gan", f"data={data}", *tiny_overrides(architecture, steps=2)])
    fit(cfg, [seen], limit_val_batches=1, val_check_interval=2)
    assert ("fake" in seen.outputs) is reads and seen.outputs["real"].shape[0] > 0


def test_projection_conditioning_resumes_exactly(compose_config, tmp_path):
    """Conditional batch norm's per-class scales and the projection embedding, under spectral norm."""
    overrides = [
        "model=cgan",
        "data=digits",
        "model.conditioning=projection",
        "model.spectral_norm=true",
        *tiny_overrides("resnet", steps=4),
    ]
    straight, _, resumed, _ = straight_and_resumed(compose_config, overrides, 4, tmp_path)
    for (name, p), q in zip(straight.named_parameters(), resumed.parameters()):
        assert torch.equal(p, q), name


@pytest.mark.parametrize(
    "model_name,optimizer,how",
    [("gan", torch.optim.Adam, "fused"), ("wgan", torch.optim.RMSprop, "foreach")],  # torch has no fused RMSprop
)
def test_optimisers_are_torchs_fused_ones_on_the_cpu_where_torch_has_them(compose_config, model_name, optimizer, how):
    cfg = compose_config([f"model={model_name}"])
    optimizers, _ = build_model(cfg, instantiate(cfg.data)).configure_optimizers()
    for built in optimizers:
        assert type(built) is optimizer and built.defaults[how] is True
