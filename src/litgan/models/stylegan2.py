"""StyleGAN2 (Karras et al. 2020): an unconditional GAN whose generator maps z to styles and
synthesises from them with noise maps (`architecture=stylegan2`). Training draws, from
`self.random`, fresh noise maps and, for a share of the examples (`style_mixing`), a second z whose
styles take over from a random layer on (style mixing). The generator can regularise its path
lengths lazily; R1 on the discriminator is the base's (`r1_gamma`, `r1_every`)."""

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
from torch import Tensor

from litgan.losses import PathLengthTarget, path_lengths
from litgan.models.contract import CriticTerms, NetFactory
from litgan.models.gan import GAN
from litgan.models.precision import gradient_scaler, loss_scale
from litgan.nets.roles import GeneratorInput
from litgan.nets.stylegan2 import StyleGAN2Generator


class Styles(NamedTuple):
    """What a training pass of the generator draws: the styles (batch, num_ws, w_dim) and one noise
    map per layer."""

    ws: Tensor
    noise: list[Tensor]


class StyleGAN2(GAN):
    """The non-saturating loss with lazy R1 (the preset), style mixing and path-length
    regularisation: every `path_length_every` generator updates, on a batch `path_length_batch_shrink`
    times smaller, weighted by `path_length_weight` times `path_length_every`."""

    generator_takes = GeneratorInput.STYLES
    # which generator updates regularise path lengths is decided on the host
    cuda_graph_safe = False
    generator: StyleGAN2Generator

    def __init__(
        self,
        generator: NetFactory,
        discriminator: NetFactory,
        data_shape: Sequence[int],
        style_mixing: float = 0.9,
        path_length_weight: float = 0.0,
        path_length_every: int = 4,
        path_length_decay: float = 0.01,
        path_length_batch_shrink: int = 2,
        **training: Any,
    ) -> None:
        """`training`: the keyword arguments of `AdversarialModel` (loss, optimisers, R1, EMA, seed)."""
        super().__init__(generator, discriminator, data_shape, **training)
        self.data_shape = tuple(data_shape)
        self.style_mixing = style_mixing
        self.path_length_weight, self.path_length_every = path_length_weight, path_length_every
        self.path_length_batch_shrink = path_length_batch_shrink
        self.path_length_target = PathLengthTarget(path_length_decay) if path_length_weight else None

    def styles(self, n: int) -> Styles:
        """`n` examples' styles, mixed from a second z after a random layer for a `style_mixing` share of
        them (the paper's per-example choice), and their noise maps."""
        G = self.generator
        ws = G.mapping(self.random.randn(n, self.latent_dim))[:, None].expand(-1, G.num_ws, -1)
        if self.style_mixing:
            other = G.mapping(self.random.randn(n, self.latent_dim))[:, None].expand(-1, G.num_ws, -1)
            mixes = self.random.rand(n) < self.style_mixing
            crossover = torch.where(mixes, self.random.randint(G.num_ws - 1, n) + 1, G.num_ws)
            layer = torch.arange(G.num_ws, device=ws.device)[None, :, None]
            ws = torch.where(layer < crossover[:, None, None], ws, other)
        return Styles(ws, [self.random.randn(n, 1, height, width) for height, width in G.noise_shapes])

    def critic_loss(self, real: Tensor, *labels: Tensor) -> CriticTerms:
        fake = self.generator.synthesis(*self.styles(len(real)))
        D = self.discriminator
        return self.critic_terms(D(real), D(fake), D, real, fake)

    def generator_loss(self, real: Tensor, *labels: Tensor) -> Tensor:
        loss = self.loss.generator(self.discriminator(self.generator.synthesis(*self.styles(len(real)))))
        if self.path_length_target is not None and self.global_step % self.path_length_every == 0:
            penalty = self.path_length_penalty(max(1, len(real) // self.path_length_batch_shrink))
            self.report(path_length=penalty)
            loss = loss + self.path_length_weight * self.path_length_every * penalty
        return loss

    def path_length_penalty(self, n: int) -> Tensor:
        """(|J_w^T y| - a)^2 on `n` fresh examples, a the moving average of the lengths over all processes."""
        ws, noise = self.styles(n)
        channels, height, width = self.data_shape
        image_noise = self.random.randn(n, channels, height, width) / math.sqrt(height * width)
        scale = loss_scale(gradient_scaler(self._trainer), ws.device)
        lengths = path_lengths(lambda w: self.generator.synthesis(w, noise), ws, image_noise, scale)
        return self.path_length_target(lengths, self.all_processes_mean(lengths.detach().mean()))
