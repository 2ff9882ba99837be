"""Unconditional GANs: the vanilla GAN (Goodfellow et al. 2014), WGAN (Arjovsky et al. 2017),
WGAN-GP (Gulrajani et al. 2017) and SNGAN (Miyato et al. 2018) differ only in loss, Lipschitz
constraint (clipping, gradient penalty, spectral norm), optimiser and `n_critic`, all chosen by
config."""

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from litgan.losses import AdversarialLoss
from litgan.models.base import AdversarialModel, Capability, CriticTerms, ValidationOutputs
from litgan.utils.random import ShardedGenerator


class GAN(AdversarialModel):
    """Noise z ~ N(0, I) to samples. Noise and gradient-penalty mixing weights are drawn for the
    global batch and sliced per process (the randomness rule of `AdversarialModel`)."""

    capabilities = Capability.SAMPLE
    augments_images = True
    cuda_graph_safe = True

    def __init__(
        self,
        generator: Callable[..., nn.Module],
        discriminator: Callable[..., nn.Module],
        loss: AdversarialLoss,
        optimizer_g: Callable[..., Optimizer],
        optimizer_d: Callable[..., Optimizer],
        data_shape: Sequence[int],
        **training: Any,
    ) -> None:
        """`training`: the keyword arguments of `AdversarialModel` (n_critic, penalties, schedulers, seed)."""
        super().__init__(loss, optimizer_g, optimizer_d, **training)
        self.set_nets(generator(data_shape=data_shape), discriminator(data_shape=data_shape))
        self.latent_dim: int = self.generator.latent_dim

    def forward(self, z: Tensor) -> Tensor:
        return self.sampler(z)

    def sample(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Samples for metrics and plots; conditional models use `labels`."""
        return self.sampler(z)

    @torch.no_grad()
    def sample_grid(self, columns: int) -> Tensor:
        """columns x columns samples from fixed noise: successive pictures show the same latent points."""
        rng = torch.Generator(self.device).manual_seed(0)
        return self.sample(torch.randn(columns * columns, self.latent_dim, generator=rng, device=self.device))

    # --- losses -----------------------------------------------------------------------------

    def generator_loss(self, real: Tensor, *labels: Tensor) -> Tensor:
        """Only the size of the last real minibatch matters to an unconditional generator."""
        fake = self.generator(self.random.randn(len(real), self.latent_dim))
        return self.loss.generator(self.discriminator(fake))

    def critic_loss(self, real: Tensor, *labels: Tensor) -> CriticTerms:
        """Unconditional: labels, when the dataset has them, are ignored."""
        fake = self.generator(self.random.randn(len(real), self.latent_dim))
        real_scores, fake_scores = self.discriminator(real), self.discriminator(fake)
        loss = self.loss.discriminator(real_scores, fake_scores)
        gp = None
        if self.gradient_penalty_weight:
            gp = self.penalty(self.discriminator, real, fake)
            loss = loss + self.gradient_penalty_weight * gp
        return CriticTerms(loss, real_scores.detach(), fake_scores.detach(), gp)

    # --- validation: on points, as many samples as there are real ones ----------------------

    def on_validation_epoch_start(self) -> None:
        self._val_random = ShardedGenerator(self.seed + 1, self.global_rank, self.trainer.world_size, self.device)

    def validation_outputs(self, batch: tuple[Tensor, ...], batch_idx: int) -> ValidationOutputs:
        """Samples beside the real ones for 2-D points, which the scatter plot and the mode coverage
        read; none for images, whose picture (`sample_grid`) and metrics generate their own."""
        real, labels = batch[0], batch[1] if len(batch) > 1 else None
        if real.dim() > 2:
            return {"real": real}
        z = self._val_random.randn(len(real), self.latent_dim)
        return {"real": real, "fake": self.sample(z, labels)}
