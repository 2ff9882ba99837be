"""Class-conditional GAN (Mirza & Osindero 2014): the same alternation, losses and penalties as
`GAN`, each term conditioned on the class y, which both nets take as an input."""

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from litgan.losses import AdversarialLoss
from litgan.models.base import Capability, CriticTerms
from litgan.models.gan import GAN
from litgan.nets.conditional import ConditionalDiscriminator, ConditionalGenerator
from litgan.utils.errors import ConfigError


class ConditionalGAN(GAN):
    """Real minibatches carry labels; fakes are generated for the same labels in the critic step
    and for uniformly drawn labels in the generator step."""

    capabilities = Capability.SAMPLE | Capability.CONDITION

    def __init__(
        self,
        generator: Callable[..., nn.Module],
        discriminator: Callable[..., nn.Module],
        loss: AdversarialLoss,
        optimizer_g: Callable[..., Optimizer],
        optimizer_d: Callable[..., Optimizer],
        data_shape: Sequence[int],
        num_classes: int | None,
        **training: Any,
    ) -> None:
        if not num_classes:
            raise ConfigError("ConditionalGAN needs the number of classes of a labelled dataset (num_classes).")
        conditional_generator = partial(ConditionalGenerator, generator, num_classes=num_classes)
        conditional_discriminator = partial(ConditionalDiscriminator, discriminator, num_classes=num_classes)
        super().__init__(
            conditional_generator, conditional_discriminator, loss, optimizer_g, optimizer_d, data_shape, **training
        )
        self.num_classes = num_classes

    def sample(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Without labels: classes in turn (0, 1, ..., C-1, 0, ...), so every class is represented."""
        if labels is None:
            labels = self.balanced_labels(len(z), z.device)
        return self.sampler(z, labels)

    def balanced_labels(self, n: int, device: torch.device) -> Tensor:
        return torch.arange(n, device=device) % self.num_classes

    def generator_loss(self, real: Tensor, *labels: Tensor) -> Tensor:
        """Labels drawn uniformly: every class gets generator updates, whatever the batch held."""
        labels = self.random.randint(self.num_classes, len(real))
        fake = self.generator(self.random.randn(len(real), self.latent_dim), labels)
        return self.loss.generator(self.discriminator(fake, labels))

    @torch.no_grad()
    def sample_grid(self, columns: int) -> Tensor:
        """One row per class, the same noise in every row."""
        rng = torch.Generator(self.device).manual_seed(0)
        z = torch.randn(columns, self.latent_dim, generator=rng, device=self.device)
        labels = torch.arange(self.num_classes, device=self.device).repeat_interleave(columns)
        return self.sample(z.repeat(self.num_classes, 1), labels)

    def critic_loss(self, real: Tensor, *labels: Tensor) -> CriticTerms:
        y = labels[0]  # the class; further label tensors (e.g. all attributes) are not used here
        fake = self.generator(self.random.randn(len(real), self.latent_dim), y)
        real_scores, fake_scores = self.discriminator(real, y), self.discriminator(fake, y)
        loss = self.loss.discriminator(real_scores, fake_scores)
        gp = None
        if self.gradient_penalty_weight:
            gp = self.penalty(lambda x: self.discriminator(x, y), real, fake)
            loss = loss + self.gradient_penalty_weight * gp
        return CriticTerms(loss, real_scores.detach(), fake_scores.detach(), gp)
