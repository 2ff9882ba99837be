"""Generator steps per second of litgan's WGAN-GP against a plain PyTorch loop with the same
nets, losses, batch size and n_critic, in one process, both orders alternated.
Run with `make bench`; prints the ratios and writes them to logs/bench/speed.json."""

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
    # name: (overrides, timed generator steps, target ratio)
    "mlp_ring": (["data=ring", "architecture=mlp"], 60, 0.90),
    "dcgan_digits_32": (["data=digits", "architecture=dcgan", "data.batch_size=32"], 12, 0.97),
}


class StepTimer(Callback):
    def __init__(self) -> None:
        self.start = self.end = 0.0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == WARMUP:
            self.start = time.perf_counter()

    def on_train_end(self, trainer, pl_module):
        self.end = time.perf_counter()


def lightning_steps_per_second(cfg, steps: int) -> float:
    datamodule = instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    timer = StepTimer()
    trainer = Trainer(
        accelerator="cpu",
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


def plain_steps_per_second(cfg, steps: int) -> float:
    """The textbook loop (Gulrajani et al. 2017, Algorithm 1), written directly in PyTorch."""
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    model = build_model(cfg, datamodule)  # only for identical nets, loss and hyperparameters
    G, D, loss = model.generator, model.discriminator, model.loss
    opt_g, opt_d = model.optimizer_g(G.parameters()), model.optimizer_d(D.parameters())
    data = datamodule.train_tensors[0]
    batch, n_critic, lam = datamodule.batch_size, model.n_critic, model.gradient_penalty_weight
    for step in range(WARMUP + steps):
        if step == WARMUP:
            start = time.perf_counter()
        for p in D.parameters():
            p.requires_grad_(True)
        for p in G.parameters():
            p.requires_grad_(False)
        for _ in range(n_critic):
            real = data[torch.randint(len(data), (batch,))]
            fake = G(torch.randn(batch, G.latent_dim))
            d_loss = loss.discriminator(D(real), D(fake)) + lam * gradient_penalty(D, real, fake, torch.rand(batch))
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
        for p in D.parameters():
            p.requires_grad_(False)
        for p in G.parameters():
            p.requires_grad_(True)
        g_loss = loss.generator(D(G(torch.randn(batch, G.latent_dim))))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
    return steps / (time.perf_counter() - start)


@pytest.mark.parametrize("case", list(CASES))
def test_speed_against_plain_pytorch(case, compose_config):
    overrides, steps, target = CASES[case]
    cfg = compose_config(["model=wgan_gp", *overrides])
    lightning, plain = [], []
    for _ in range(REPEATS):  # L P P L ...: drift in machine speed hits both sides alike
        lightning.append(lightning_steps_per_second(cfg, steps))
        plain.append(plain_steps_per_second(cfg, steps))
        plain.append(plain_steps_per_second(cfg, steps))
        lightning.append(lightning_steps_per_second(cfg, steps))
    ratio = (sum(lightning) / len(lightning)) / (sum(plain) / len(plain))
    result = {
        "case": case,
        "lightning_steps_per_s": lightning,
        "plain_steps_per_s": plain,
        "ratio": ratio,
        "target": target,
    }
    print(json.dumps(result))
    out = Path("logs/bench")
    out.mkdir(parents=True, exist_ok=True)
    (out / f"speed_{case}.json").write_text(json.dumps(result, indent=2))
    assert ratio >= target, f"{case}: litgan runs at {ratio:.3f} of the plain loop, target {target}"
