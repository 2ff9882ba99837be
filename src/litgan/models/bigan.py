"""BiGAN (Donahue et al. 2017) / ALI (Dumoulin et al. 2017): an encoder E: x -> z learnt with the
generator G: z -> x against a discriminator of pairs, which tells (x, E(x)) from (G(z), z). At the
optimum E inverts G, so the model can encode as well as sample."""

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics import MeanMetric

from litgan.models.base import AdversarialModel
from litgan.models.contract import Capability, CriticTerms, NetFactory, SampleGrid, ValidationOutputs
from litgan.nets.bigan import JointDiscriminator


class BiGAN(AdversarialModel):
    """G and E share the generator optimiser; they minimise the discriminator's loss with the
    labels swapped (the non-saturating form of the paper's min-max game). The encoder is the
    architecture's discriminator net with `latent_dim` outputs."""

    capabilities = Capability.SAMPLE | Capability.ENCODE
    cuda_graph_safe = True

    def __init__(
        self, generator: NetFactory, discriminator: NetFactory, data_shape: Sequence[int], **training: Any
    ) -> None:
        """`training`: the keyword arguments of `AdversarialModel` (loss, optimisers, n_critic, penalties, seed)."""
        super().__init__(**training)
        decoder = generator(data_shape=data_shape)
        self.latent_dim: int = decoder.latent_dim
        encoder = discriminator(data_shape=data_shape, outputs=self.latent_dim)
        self.set_nets(
            nn.ModuleDict({"decoder": decoder, "encoder": encoder}),
            JointDiscriminator(discriminator, data_shape, self.latent_dim),
        )
        # over the validation split, per example, in every process (metric states are not in the checkpoint)
        self.mean_errors = nn.ModuleDict({name: MeanMetric() for name in ("reconstruction_error", "latent_error")})

    def sample(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.sampler["decoder"](z)

    def encode(self, x: Tensor) -> Tensor:
        return self.sampler["encoder"](x)

    # --- losses -----------------------------------------------------------------------------

    def pairs(self, real: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(x, E(x)) and (G(z), z) for a minibatch of real samples."""
        z = self.random.randn(len(real), self.latent_dim)
        return real, self.generator["encoder"](real), self.generator["decoder"](z), z

    def critic_loss(self, real: Tensor, *labels: Tensor) -> CriticTerms:
        x, code, fake, z = self.pairs(real)
        # the penalty mixes the joint inputs: each pair as one flat vector
        real_pairs, fake_pairs = torch.cat([x.flatten(1), code], 1), torch.cat([fake.flatten(1), z], 1)
        D = self.discriminator.forward_flat
        return self.critic_terms(D(real_pairs), D(fake_pairs), D, real_pairs, fake_pairs)

    def generator_loss(self, real: Tensor, *labels: Tensor) -> Tensor:
        x, code, fake, z = self.pairs(real)
        return self.loss.discriminator(self.discriminator(fake, z), self.discriminator(x, code))

    # --- validation: samples, and how well E and G invert each other -------------------------

    def reconstruction_errors(self, x: Tensor, z: Tensor) -> dict[str, Tensor]:
        """Per example: mean |x - G(E(x))| over the sample's entries, and mean |z - E(G(z))|."""
        return {
            "reconstruction_error": (self.sample(self.encode(x)) - x).abs().flatten(1).mean(1),
            "latent_error": (self.encode(self.sample(z)) - z).abs().mean(1),
        }

    def on_validation_epoch_start(self) -> None:
        super().on_validation_epoch_start()
        for mean in self.mean_errors.values():
            mean.reset()

    def validation_outputs(self, batch: tuple[Tensor, ...], batch_idx: int) -> ValidationOutputs:
        real = batch[0]
        z = self.validation_random.randn(len(real), self.latent_dim)
        for name, errors in self.reconstruction_errors(real, z).items():
            self.mean_errors[name].update(errors)
        outputs: ValidationOutputs = {"real": real, "source": real, "reconstructed": self.sample(self.encode(real))}
        if real.dim() == 2:  # points: the scatter plot and the mode coverage read the samples
            outputs["fake"] = self.sample(z)
        return outputs

    def on_validation_epoch_end(self) -> None:
        self.log_validation({name: mean.compute() for name, mean in self.mean_errors.items()})  # over all processes

    @torch.no_grad()
    def sample_grid(self, batch: tuple[Tensor, ...], columns: int) -> SampleGrid:
        """Row 0: validation images x; row 1: G(E(x)); the other rows: samples from fixed noise."""
        x = batch[0][:columns]
        z = self.fixed_noise(columns * (columns - 2), self.latent_dim)
        images = torch.cat([x, self.sample(self.encode(x)), self.sample(z)])
        return SampleGrid(images, ("x", "G(E(x))", *["sample"] * (columns - 2)))
