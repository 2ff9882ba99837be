"""Unconditional GANs: the vanilla GAN (Goodfellow et al. 2014), WGAN (Arjovsky et al. 2017)
and WGAN-GP (Gulrajani et al. 2017) differ only in loss, Lipschitz constraint, optimiser and
`n_critic`, all chosen by config."""

from collections.abc import Callable, Sequence
from typing import Any

import torch
from lightning import LightningModule
from torch import Tensor, nn
from torch.optim import Optimizer

from litgan.losses import AdversarialLoss, clip_weights, gradient_penalty
from litgan.utils.random import ShardedGenerator


class GAN(LightningModule):
    """Alternates `n_critic` discriminator (critic) updates with one generator update.

    One training step is one generator update: its batch holds `n_critic` minibatches of real
    data, one per critic update, so `trainer.max_steps` and `global_step` count generator
    updates. Noise and gradient-penalty mixing weights are drawn for the global batch and
    sliced per process, so N processes reproduce one process on the same global batches.
    """

    def __init__(
        self,
        generator: Callable[..., nn.Module],
        discriminator: Callable[..., nn.Module],
        loss: AdversarialLoss,
        optimizer_g: Callable[..., Optimizer],
        optimizer_d: Callable[..., Optimizer],
        data_shape: Sequence[int],
        num_classes: int | None = None,
        n_critic: int = 1,
        gradient_penalty_weight: float = 0.0,
        weight_clip: float | None = None,
        scheduler_g: Callable[..., Any] | None = None,
        scheduler_d: Callable[..., Any] | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.generator, self.discriminator = self.build_nets(generator, discriminator, data_shape, num_classes)
        self.latent_dim: int = getattr(self.generator, "latent_dim", 0)  # 0: image-to-image models
        batch_norms = [m for m in self.discriminator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if gradient_penalty_weight and batch_norms:
            raise ValueError(
                "The gradient penalty is defined per example, but the discriminator uses batch norm, which "
                "mixes the examples of a batch; set architecture.discriminator.norm=layer (or none)."
            )
        self.loss = loss
        self.optimizer_g, self.optimizer_d = optimizer_g, optimizer_d
        self.scheduler_g, self.scheduler_d = scheduler_g, scheduler_d
        self.n_critic = n_critic
        self.gradient_penalty_weight = gradient_penalty_weight
        self.weight_clip = weight_clip
        self.seed = seed
        self.critic_updates = 0
        self._random: ShardedGenerator | None = None
        self._random_state: dict | None = None

    # --- randomness -------------------------------------------------------------------------

    @property
    def random(self) -> ShardedGenerator:
        if self._random is None:
            rank, world = (self.global_rank, self.trainer.world_size) if self._trainer else (0, 1)
            self._random = ShardedGenerator(self.seed, rank, world, self.device)
            if self._random_state is not None:
                self._random.load_state_dict(self._random_state)
        return self._random

    def build_nets(
        self,
        generator: Callable[..., nn.Module],
        discriminator: Callable[..., nn.Module],
        data_shape: Sequence[int],
        num_classes: int | None,
    ) -> tuple[nn.Module, nn.Module]:
        return generator(data_shape=data_shape), discriminator(data_shape=data_shape)

    def forward(self, z: Tensor) -> Tensor:
        return self.generator(z)

    def sample(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Samples for metrics and plots; conditional models use `labels`."""
        return self.generator(z)

    # --- training ---------------------------------------------------------------------------

    def training_step(self, batch: tuple[Tensor, ...]) -> None:
        opt_g, opt_d = self.optimizers()
        minibatches = list(zip(*(tensor.chunk(self.n_critic) for tensor in batch)))  # (x,) or (x, y) each

        with self.toggled_optimizer(opt_d):
            for real in minibatches:
                d_loss, d_real, d_fake, gp = self.critic_loss(*real)
                opt_d.zero_grad(set_to_none=True)
                self.manual_backward(d_loss)
                self.critic_optimizer_step(opt_d)
                if self.weight_clip is not None:
                    clip_weights(self.discriminator, self.weight_clip)

        with self.toggled_optimizer(opt_g):
            g_loss = self.generator_loss(*minibatches[-1])
            opt_g.zero_grad(set_to_none=True)
            self.manual_backward(g_loss)
            opt_g.step()

        schedulers = self.lr_schedulers()  # None, one scheduler, or a list
        for scheduler in schedulers if isinstance(schedulers, list) else [schedulers] if schedulers else []:
            scheduler.step()

        if self.global_step % self.trainer.log_every_n_steps == 0:
            self.check_finite(d_loss=d_loss, g_loss=g_loss)
        metrics = {
            "train/d_loss": d_loss,
            "train/g_loss": g_loss,
            "train/d_real": d_real,
            "train/d_fake": d_fake,
            "train/g_step": float(self.global_step),
            "train/d_step": float(self.critic_updates),
        }
        if gp is not None:
            metrics["train/gp"] = gp
        self.log_dict(metrics)

    def check_finite(self, **losses: Tensor) -> None:
        """Called every `log_every_n_steps` steps only: each call waits for the device."""
        bad = {name: value.item() for name, value in losses.items() if not torch.isfinite(value)}
        if bad:
            raise FloatingPointError(
                f"Training diverged: {bad} at generator step {self.global_step}; the checkpoints saved so far are "
                "kept. Lower the learning rate or check the loss/penalty settings."
            )

    def generator_loss(self, real: Tensor, *labels: Tensor) -> Tensor:
        """Only the size of the last real minibatch matters to an unconditional generator."""
        fake = self.generator(self.random.randn(len(real), self.latent_dim))
        return self.loss.generator(self.discriminator(fake))

    def critic_loss(self, real: Tensor, *labels: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """Unconditional: labels, when the dataset has them, are ignored."""
        fake = self.generator(self.random.randn(len(real), self.latent_dim))
        real_scores, fake_scores = self.discriminator(real), self.discriminator(fake)
        loss = self.loss.discriminator(real_scores, fake_scores)
        gp = None
        if self.gradient_penalty_weight:
            gp = gradient_penalty(self.discriminator, real, fake, self.random.rand(len(real)))
            loss = loss + self.gradient_penalty_weight * gp
        return loss, real_scores.detach().mean(), fake_scores.detach().mean(), gp

    def critic_optimizer_step(self, optimizer: Any) -> None:
        # Lightning counts every LightningOptimizer.step() as a global step, but global_step is
        # meant to count generator updates; the strategy call still applies precision plugins.
        self.trainer.strategy.optimizer_step(optimizer.optimizer, closure=lambda: None)
        self.critic_updates += 1

    # --- validation: generate as many samples as there are real ones -------------------------

    def on_validation_epoch_start(self) -> None:
        self._val_random = ShardedGenerator(self.seed + 1, self.global_rank, self.trainer.world_size, self.device)

    def validation_step(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        real, labels = batch[0], batch[1] if len(batch) > 1 else None
        z = self._val_random.randn(len(real), self.latent_dim)
        return {"real": real, "fake": self.sample(z, labels)}

    # --- optimisers and checkpoints ---------------------------------------------------------

    def configure_optimizers(self) -> Any:
        optimizers = [
            self.optimizer_g(self.generator.parameters()),
            self.optimizer_d(self.discriminator.parameters()),
        ]
        schedulers = [make(opt) for make, opt in zip((self.scheduler_g, self.scheduler_d), optimizers) if make]
        return optimizers, schedulers

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        bad = [name for name, p in self.named_parameters() if not torch.isfinite(p).all()]
        if bad:
            raise FloatingPointError(
                f"Training diverged: {len(bad)} parameter tensors (first: {bad[0]}) hold NaN or inf at generator "
                f"step {self.global_step}; not saving this checkpoint, earlier checkpoints are kept. "
                "Lower the learning rate or check the loss/penalty settings."
            )
        checkpoint["litgan"] = {
            "random": self.random.state_dict(),
            "critic_updates": self.critic_updates,
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint["litgan"]
        self.critic_updates = state["critic_updates"]
        self._random, self._random_state = None, state["random"]
