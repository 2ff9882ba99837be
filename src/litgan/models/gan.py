"""Unconditional GANs: the vanilla GAN (Goodfellow et al. 2014), WGAN (Arjovsky et al. 2017),
WGAN-GP (Gulrajani et al. 2017) and SNGAN (Miyato et al. 2018) differ only in loss, Lipschitz
constraint (clipping, gradient penalty, spectral norm), optimiser and `n_critic`, all chosen by
config. The smallest family: a new one starts from a copy of this file (README, "Adding a model")."""

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from litgan.models.base import AdversarialModel
from litgan.models.contract import Capability, CriticTerms, NetFactory, SampleGrid, ValidationOutputs


class GAN(AdversarialModel):
    """Noise z ~ N(0, I) to samples."""

    capabilities = Capability.SAMPLE
    augments_images = True
    cuda_graph_safe = True

    def __init__(
        self, generator: NetFactory, discriminator: NetFactory, data_shape: Sequence[int], **training: Any
    ) -> None:
        """`training`: the keyword arguments of `AdversarialModel` (loss, optimisers, n_critic, penalties, seed)."""
        super().__init__(**training)
        self.set_nets(generator(data_shape=data_shape), discriminator(data_shape=data_shape))
        self.latent_dim: int = self.generator.latent_dim

    def sample(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Samples for metrics and plots; conditional models use `labels`."""
        return self.sampler(z)

    def critic_loss(self, real: Tensor, *labels: Tensor) -> CriticTerms:
        """Unconditional: labels, when the dataset has them, are ignored."""
        fake = self.generator(self.random.randn(len(real), self.latent_dim))
        D = self.discriminator
        return self.critic_terms(D(real), D(fake), D, real, fake)

    def generator_loss(self, real: Tensor, *labels: Tensor) -> Tensor:
        """Only the size of the last real minibatch matters to an unconditional generator."""
        fake = self.generator(self.random.randn(len(real), self.latent_dim))
        return self.loss.generator(self.discriminator(fake))

    def validation_outputs(self, batch: tuple[Tensor, ...], batch_idx: int) -> ValidationOutputs:
        """Samples beside the real ones for 2-D points, which the scatter plot and the mode coverage
        read; none for images, whose picture (`sample_grid`) and metrics generate their own."""
        real, labels = batch[0], batch[1] if len(batch) > 1 else None
        if real.dim() > 2:
            return {"real": real}
        return {"real": real, "fake": self.sample(self.validation_random.randn(len(real), self.latent_dim), labels)}

    @torch.no_grad()
    def sample_grid(self, batch: tuple[Tensor, ...], columns: int) -> SampleGrid:
        """columns x columns samples from fixed noise."""
        return SampleGrid(self.sample(self.fixed_noise(columns * columns, self.latent_dim)))
