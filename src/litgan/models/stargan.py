"""StarGAN (Choi et al. 2018): one generator G(x, c) translating an image to target domain
labels c, one discriminator with a real/fake head D_src and a domain classifier D_cls; WGAN-GP
adversarial loss, domain classification (lambda_cls 1) and reconstruction G(G(x, c), c') ~ x
(lambda_rec 10). Optionally CycleGAN's identity term G(x, c_x) ~ x (off in the paper)."""

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from torch.nn import functional as F

from litgan.data.base import TrainingData
from litgan.models.base import AdversarialModel
from litgan.models.contract import Capability, CriticTerms, NetFactory, SampleGrid, ValidationOutputs
from litgan.nets.roles import GeneratorInput


def classification_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """The paper's multi-label loss: binary cross-entropy summed over the labels, averaged over the batch."""
    return F.binary_cross_entropy_with_logits(logits, labels, reduction="sum") / len(logits)


class StarGAN(AdversarialModel):
    """Batches hold (images, domain labels in {0, 1}, ...). Labels are groups (`domain_groups`
    sizes): a size-1 group is a binary attribute, a size-k group k exclusive values, one-hot."""

    capabilities = Capability.TRANSLATE
    cuda_graph_safe = True
    trains_on = TrainingData.DOMAIN_LABELS
    generator_takes = GeneratorInput.IMAGES
    discriminator_classifies_domains = True

    def __init__(
        self,
        generator: NetFactory,
        discriminator: NetFactory,
        data_shape: Sequence[int],
        domain_groups: Sequence[int],
        n_critic: int = 5,
        gradient_penalty_weight: float = 10.0,
        classification_weight: float = 1.0,
        reconstruction_weight: float = 10.0,
        identity_weight: float = 0.0,
        **training: Any,
    ) -> None:
        """`training`: the other keyword arguments of `AdversarialModel` (loss, optimisers, schedulers, seed, ...)."""
        super().__init__(n_critic=n_critic, gradient_penalty_weight=gradient_penalty_weight, **training)
        self.domain_groups = list(domain_groups)
        self.num_domains = sum(self.domain_groups)
        self.set_nets(
            generator(data_shape=data_shape, extra_channels=self.num_domains),
            discriminator(data_shape=data_shape, num_domains=self.num_domains),
        )
        self.classification_weight, self.reconstruction_weight = classification_weight, reconstruction_weight
        # The paper's objective never asks that content stay unchanged: where content has a change G
        # can undo (a background inverted along with the colour), G takes it; this term penalises that.
        self.identity_weight = identity_weight

    # --- target domains ---------------------------------------------------------------------

    def random_targets(self, n: int) -> Tensor:
        """Target labels drawn per group: a fair bit, or one of k values uniformly. (The paper
        shuffles the batch's own labels; drawing from the shared generator keeps N processes
        equal to one, and gives every domain the same share of updates.)"""
        blocks = []
        for size in self.domain_groups:
            if size == 1:
                blocks.append((self.random.rand(n, 1) < 0.5).float())
            else:
                blocks.append(F.one_hot(self.random.randint(size, n), size).float())
        return torch.cat(blocks, dim=1)

    def single_edits(self, labels: Tensor) -> list[Tensor]:
        """StarGAN's test-time targets: for each binary attribute its flip, for each value of an
        exclusive group that value; everything else as in `labels`."""
        edits, start = [], 0
        for size in self.domain_groups:
            for value in range(size):
                target = labels.clone()
                if size == 1:
                    target[:, start] = 1 - target[:, start]
                else:
                    target[:, start : start + size] = F.one_hot(torch.tensor(value), size).to(target)
                edits.append(target)
            start += size
        return edits

    def edit_names(self) -> list[str]:
        """What each of `single_edits` asks, in its order: `flip <group>` or `<group> = <value>`,
        groups numbered from 1 as in the domain labels."""
        names = []
        for group, size in enumerate(self.domain_groups, start=1):
            names += [f"flip {group}"] if size == 1 else [f"{group} = {value}" for value in range(size)]
        return names

    # --- losses -----------------------------------------------------------------------------

    def critic_loss(self, real: Tensor, labels: Tensor, *rest: Tensor) -> CriticTerms:
        fake = self.generator(real, self.random_targets(len(real)))
        (real_scores, real_logits), (fake_scores, _) = self.discriminator(real), self.discriminator(fake)
        adversarial = self.critic_terms(real_scores, fake_scores, lambda x: self.discriminator(x)[0], real, fake)
        classification = classification_loss(real_logits, labels)
        self.report(d_classification=classification)
        return adversarial._replace(loss=adversarial.loss + self.classification_weight * classification)

    def generator_loss(self, real: Tensor, labels: Tensor, *rest: Tensor) -> Tensor:
        target = self.random_targets(len(real))
        fake = self.generator(real, target)
        scores, logits = self.discriminator(fake)
        classification = classification_loss(logits, target)
        reconstruction = F.l1_loss(self.generator(fake, labels), real)
        self.report(g_classification=classification, reconstruction=reconstruction)
        loss = (
            self.loss.generator(scores)
            + self.classification_weight * classification
            + self.reconstruction_weight * reconstruction
        )
        if self.identity_weight:
            identity = F.l1_loss(self.generator(real, labels), real)
            self.report(identity=identity)
            loss = loss + self.identity_weight * identity
        return loss

    # --- validation and pictures ------------------------------------------------------------

    def validation_outputs(self, batch: tuple[Tensor, ...], batch_idx: int) -> ValidationOutputs:
        """Each image gets one of the single edits in turn; its translation is then mapped back."""
        images, labels = batch[0], batch[1]
        edits = torch.stack(self.single_edits(labels))  # (edits, n, domains)
        rows = torch.arange(len(images), device=images.device)
        target = edits[rows % len(edits), rows]
        translated = self.sampler(images, target)
        reconstructed = self.sampler(translated, labels)
        return {"real": images, "fake": translated, "source": images, "target": target, "reconstructed": reconstructed}

    @torch.no_grad()
    def sample_grid(self, batch: tuple[Tensor, ...], columns: int) -> SampleGrid:
        """Row 0: the batch's first images; then one row per single edit (each domain)."""
        images, labels = batch[0][:columns], batch[1][:columns]
        edits = self.single_edits(labels)
        rows = torch.cat([images, *(self.sampler(images, target) for target in edits)])
        return SampleGrid(rows, ("input", *self.edit_names()))
