"""CycleGAN (Zhu et al. 2017): two generators G: A -> B and F: B -> A, two discriminators, a
least-squares adversarial loss, cycle consistency (lambda 10) and identity (0.5 lambda) L1 terms,
discriminators trained on a history of 50 generated images."""

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from litgan.data.base import TrainingData
from litgan.models.base import AdversarialModel
from litgan.models.contract import Capability, CriticTerms, NetFactory, SampleGrid, ValidationOutputs
from litgan.models.image_pool import ImagePool
from litgan.nets.roles import GeneratorInput


class CycleGAN(AdversarialModel):
    """Batches hold (a, b, ...): unpaired images of domains A and B. The two generators share one
    optimiser, the two discriminators the other, alternated as in every model (one update each)."""

    capabilities = Capability.TRANSLATE
    trains_on = TrainingData.UNPAIRED_DOMAINS
    generator_takes = GeneratorInput.IMAGES
    critic_regularised = False

    def __init__(
        self,
        generator: NetFactory,
        discriminator: NetFactory,
        data_shape: Sequence[int],
        cycle_weight: float = 10.0,
        identity_weight: float = 0.5,
        adversarial_weight: float = 1.0,
        pool_size: int = 50,
        **training: Any,
    ) -> None:
        """`training`: the keyword arguments of `AdversarialModel` (loss, optimisers, schedulers, seed, ...)."""
        super().__init__(**training)
        self.set_nets(
            nn.ModuleDict({"a_to_b": generator(data_shape=data_shape), "b_to_a": generator(data_shape=data_shape)}),
            nn.ModuleDict({"a": discriminator(data_shape=data_shape), "b": discriminator(data_shape=data_shape)}),
        )
        self.cycle_weight, self.identity_weight = cycle_weight, identity_weight
        self.adversarial_weight = adversarial_weight
        self.pool_a, self.pool_b = ImagePool(pool_size, self.seed), ImagePool(pool_size, self.seed + 1)

    def translate(self, a: Tensor | None = None, b: Tensor | None = None) -> tuple[Tensor | None, Tensor | None]:
        """(G(a), F(b)): A -> B and B -> A."""
        return (
            self.generator["a_to_b"](a) if a is not None else None,
            self.generator["b_to_a"](b) if b is not None else None,
        )

    def critic_loss(self, a: Tensor, b: Tensor, *rest: Tensor) -> CriticTerms:
        fake_b, fake_a = self.translate(a, b)
        fake_a, fake_b = self.pool_a.query(fake_a), self.pool_b.query(fake_b)
        D = self.discriminator
        real_a, real_b, score_a, score_b = D["a"](a), D["b"](b), D["a"](fake_a), D["b"](fake_b)
        loss = self.loss.discriminator(real_a, score_a) + self.loss.discriminator(real_b, score_b)
        return CriticTerms(loss, torch.cat([real_a, real_b]).detach(), torch.cat([score_a, score_b]).detach())

    def generator_loss(self, a: Tensor, b: Tensor, *rest: Tensor) -> Tensor:
        fake_b, fake_a = self.translate(a, b)
        rec_a, rec_b = self.translate(fake_a, fake_b)[::-1]  # F(G(a)), G(F(b))
        adversarial = self.loss.generator(self.discriminator["b"](fake_b)) + self.loss.generator(
            self.discriminator["a"](fake_a)
        )
        cycle = F.l1_loss(rec_a, a) + F.l1_loss(rec_b, b)
        loss = self.adversarial_weight * adversarial + self.cycle_weight * cycle
        if self.identity_weight:
            same_b, same_a = self.translate(b, a)  # G(b) should be b, F(a) should be a
            loss = loss + self.identity_weight * self.cycle_weight * (F.l1_loss(same_b, b) + F.l1_loss(same_a, a))
        self.report(cycle=cycle)
        return loss

    def validation_outputs(self, batch: tuple[Tensor, ...], batch_idx: int) -> ValidationOutputs:
        a, b = batch[0], batch[1]
        fake_b = self.sampler["a_to_b"](a)
        rec_a = self.sampler["b_to_a"](fake_b)
        return {"real": b, "fake": fake_b, "source": a, "reconstructed": rec_a}

    @torch.no_grad()
    def sample_grid(self, batch: tuple[Tensor, ...], columns: int) -> SampleGrid:
        """Rows: A, G(A), F(G(A)), B, F(B), G(F(B)) for the batch's first images of each domain."""
        a, b = batch[0][:columns], batch[1][:columns]
        a_to_b, b_to_a = self.sampler["a_to_b"], self.sampler["b_to_a"]
        fake_b, fake_a = a_to_b(a), b_to_a(b)
        images = torch.cat([a, fake_b, b_to_a(fake_b), b, fake_a, a_to_b(fake_a)])
        return SampleGrid(images, ("A", "G(A)", "F(G(A))", "B", "F(B)", "G(F(B))"))

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["litgan"]["pools"] = [self.pool_a.state_dict(), self.pool_b.state_dict()]

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        for pool, state in zip((self.pool_a, self.pool_b), checkpoint["litgan"]["pools"]):
            pool.load_state_dict(state)
