"""Generator steps per second of litgan's WGAN-GP against a plain PyTorch loop with the same
nets, losses, batch size and n_critic, in one process, both orders alternated, on the CPU and,
where CUDA is available, on the GPU. Run with `make bench`; prints the ratios and absolute
speeds and writes them to logs/bench/speed_<device>_<case>.json."""

import json
import time
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from lightning import Callback, Trainer

from litgan.losses import gradient_penalty
from litgan.models.build import build_model

pytestmark = pytest.mark.bench

WARMUP, REPEATS = 5, 2
CASES = {
    # name: (overrides, timed generator steps, target ratio); the GPU section's steps keep it to a few
    # minutes on one GPU (on an H100 the plain loop ran about 24 MLP generator steps a second)
    "cpu": {
        "mlp_ring": (["data=ring", "architecture=mlp"], 60, 1.0),
        "dcgan_digits_32": (["data=digits", "architecture=dcgan", "data.batch_size=32"], 12, 1.0),
    },
    "cuda": {
        "mlp_ring": (["data=ring", "architecture=mlp"], 150, 1.0),
        "dcgan_shapes_64": (["data=shapes", "architecture=dcgan", "data.batch_size=64"], 120, 1.0),
        "dcgan_shapes_256": (["data=shapes", "architecture=dcgan", "data.batch_size=256"], 60, 1.0),
        # the fast path: each critic and generator pass replayed from a CUDA graph
        "mlp_ring_graphs": (["data=ring", "architecture=mlp", "model.cuda_graphs=true"], 150, 2.0),
        "dcgan_shapes_64_graphs": (
            ["data=shapes", "architecture=dcgan", "data.batch_size=64", "model.cuda_graphs=true"],
            120,
            2.0,
        ),
    },
}


class StepTimer(Callback):
    def __init__(self) -> None:
        self.start = self.end = 0.0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == WARMUP:
            synchronize(pl_module.device)
            self.start = time.perf_counter()

    def on_train_end(self, trainer, pl_module):
        synchronize(pl_module.device)
        self.end = time.perf_counter()


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def lightning_steps_per_second(cfg, steps: int, device: str) -> float:
    datamodule = instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    timer = StepTimer()
    trainer = Trainer(
        accelerator="gpu" if device == "cuda" else "cpu",
        devices=1,
        max_steps=WARMUP + steps,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        callbacks=[timer],
    )
    trainer.fit(model, datamodule=datamodule)
    return steps / (timer.end - timer.start)


def plain_steps_per_second(cfg, steps: int, device: str) -> float:
    """The textbook loop (Gulrajani et al. 2017, Algorithm 1), written directly in PyTorch, as a
    user would: data on the device, torch's default optimiser implementation."""
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    model = build_model(cfg, datamodule).to(device)  # only for identical nets, loss and hyperparameters
    G, D, loss = model.generator, model.discriminator, model.loss
    opt_g, opt_d = model.optimizer_g(G.parameters()), model.optimizer_d(D.parameters())
    data = datamodule.train_tensors[0].to(device)
    batch, n_critic, lam = datamodule.batch_size, model.n_critic, model.gradient_penalty_weight
    for step in range(WARMUP + steps):
        if step == WARMUP:
            synchronize(torch.device(device))
            start = time.perf_counter()
        for p in D.parameters():
            p.requires_grad_(True)
        for p in G.parameters():
            p.requires_grad_(False)
        for _ in range(n_critic):
            real = data[torch.randint(len(data), (batch,), device=device)]
            fake = G(torch.randn(batch, G.latent_dim, device=device))
            alpha = torch.rand(batch, device=device)
            d_loss = loss.discriminator(D(real), D(fake)) + lam * gradient_penalty(D, real, fake, alpha)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
        for p in D.parameters():
            p.requires_grad_(False)
        for p in G.parameters():
            p.requires_grad_(True)
        g_loss = loss.generator(D(G(torch.randn(batch, G.latent_dim, device=device))))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
    synchronize(torch.device(device))
    return steps / (time.perf_counter() - start)


RUNS = [(device, case) for device, cases in CASES.items() for case in cases]


@pytest.mark.parametrize(("device", "case"), RUNS, ids=[f"{device}-{case}" for device, case in RUNS])
def test_speed_against_plain_pytorch(device, case, compose_config):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("the GPU section: no CUDA device on this machine")
    overrides, steps, target = CASES[device][case]
    cfg = compose_config(["model=wgan_gp", *overrides])
    lightning, plain = [], []
    for _ in range(REPEATS):  # L P P L ...: drift in machine speed hits both sides alike
        lightning.append(lightning_steps_per_second(cfg, steps, device))
        plain.append(plain_steps_per_second(cfg, steps, device))
        plain.append(plain_steps_per_second(cfg, steps, device))
        lightning.append(lightning_steps_per_second(cfg, steps, device))
    ratio = (sum(lightning) / len(lightning)) / (sum(plain) / len(plain))
    result = {
        "device": torch.cuda.get_device_name() if device == "cuda" else f"CPU, {torch.get_num_threads()} threads",
        "case": case,
        "lightning_steps_per_s": lightning,
        "plain_steps_per_s": plain,
        "ratio": ratio,
        "target": target,
    }
    print(json.dumps(result))
    print(
        f"speed {result['device']} {case}: litgan {sum(lightning) / len(lightning):.1f} vs plain "
        f"{sum(plain) / len(plain):.1f} generator steps/s, ratio {ratio:.3f} (target {target})"
    )
    out = Path("logs/bench")
    out.mkdir(parents=True, exist_ok=True)
    (out / f"speed_{device}_{case}.json").write_text(json.dumps(result, indent=2))
    assert ratio >= target, f"{case}: litgan runs at {ratio:.3f} of the plain loop, target {target}"
