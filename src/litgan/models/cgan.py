"""Class-conditional GAN (Mirza & Osindero 2014): the same alternation, losses and penalties as
`GAN`, each term conditioned on the class y, which both nets take as an input: concatenated to
the noise and to the image (`conditioning=concat`, any nets), or through conditional batch norm in
the generator and a projection head in the discriminator (`conditioning=projection`, Miyato &
Koyama 2018; nets that declare `conditions_on_classes`)."""

from collections.abc import Sequence
from functools import partial
from typing import Any, Literal

import torch
from torch import Tensor

from litgan.models.contract import Capability, CriticTerms, NetFactory, SampleGrid
from litgan.models.gan import GAN
from litgan.nets.conditional import ConditionalDiscriminator, ConditionalGenerator
from litgan.utils.errors import ConfigError


class ConditionalGAN(GAN):
    """Real minibatches carry labels; fakes are generated for the same labels in the critic step
    and for uniformly drawn labels in the generator step."""

    capabilities = Capability.SAMPLE | Capability.CONDITION

    def __init__(
        self,
        generator: NetFactory,
        discriminator: NetFactory,
        data_shape: Sequence[int],
        num_classes: int | None,
        class_names: Sequence[str] | None = None,
        conditioning: Literal["concat", "projection"] = "concat",
        **training: Any,
    ) -> None:
        if not num_classes:
            raise ConfigError("ConditionalGAN needs the number of classes of a labelled dataset (num_classes).")
        if conditioning == "projection":
            nets = partial(generator, num_classes=num_classes), partial(discriminator, num_classes=num_classes)
        else:
            nets = (
                partial(ConditionalGenerator, generator, num_classes=num_classes),
                partial(ConditionalDiscriminator, discriminator, num_classes=num_classes),
            )
        super().__init__(*nets, data_shape, **training)
        self.num_classes = num_classes
        self.class_names = list(class_names or map(str, range(num_classes)))  # the sample picture's rows

    def sample(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Without labels: classes in turn (0, 1, ..., C-1, 0, ...), so every class is represented."""
        if labels is None:
            labels = self.balanced_labels(len(z), z.device)
        return self.sampler(z, labels)

    def balanced_labels(self, n: int, device: torch.device) -> Tensor:
        return torch.arange(n, device=device) % self.num_classes

    def critic_loss(self, real: Tensor, *labels: Tensor) -> CriticTerms:
        y = labels[0]  # the class; further label tensors (e.g. all attributes) are not used here
        fake = self.generator(self.random.randn(len(real), self.latent_dim), y)
        D = lambda x: self.discriminator(x, y)  # noqa: E731
        return self.critic_terms(D(real), D(fake), D, real, fake)

    def generator_loss(self, real: Tensor, *labels: Tensor) -> Tensor:
        """Labels drawn uniformly: every class gets generator updates, whatever the batch held."""
        labels = self.random.randint(self.num_classes, len(real))
        fake = self.generator(self.random.randn(len(real), self.latent_dim), labels)
        return self.loss.generator(self.discriminator(fake, labels))

    @torch.no_grad()
    def sample_grid(self, batch: tuple[Tensor, ...], columns: int) -> SampleGrid:
        """One row per class, the same noise in every row."""
        z = self.fixed_noise(columns, self.latent_dim)
        labels = torch.arange(self.num_classes, device=self.device).repeat_interleave(columns)
        return SampleGrid(self.sample(z.repeat(self.num_classes, 1), labels), tuple(self.class_names))
