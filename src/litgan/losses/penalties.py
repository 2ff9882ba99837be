"""Ways of keeping a critic well behaved: Lipschitz constraints (gradient penalty, clipping), R1
on real data, and LeCam's anchoring of the scores; and one for a generator: StyleGAN2's path-length
regularisation."""

from collections.abc import Callable

import torch
from torch import Tensor, nn


def gradient_penalty(
    critic: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    alpha: Tensor,
    loss_scale: float | Tensor | None = None,
) -> Tensor:
    """Gulrajani et al. 2017, eq. 3: E[(||grad_x D(x_hat)||_2 - 1)^2] at x_hat = a*real + (1-a)*fake.

    `alpha` holds one uniform draw per example (shape [batch]); it is passed in rather than drawn
    here so that the caller decides where randomness comes from. The norm is taken over each
    example's whole flattened gradient, not per pixel or over the batch.

    `loss_scale`: under fp16 mixed precision, the gradient scaler's current scale (a number or a
    0-d tensor). The scores are multiplied by it before differentiating, so that small gradients
    do not underflow in half precision, and the gradients divided by it afterwards: PyTorch's AMP
    recipe for gradient penalties. The value does not depend on it. None (any other precision):
    no scaling, and none of its operations, in the penalty or in its double backward.
    """
    alpha = alpha.view(-1, *([1] * (real.dim() - 1)))
    mixed = alpha * real.detach() + (1 - alpha) * fake.detach()
    return ((input_gradient(critic, mixed, loss_scale).flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def r1_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, loss_scale: float | Tensor | None = None) -> Tensor:
    """Mescheder et al. 2018, eq. 9 without its gamma/2: E[||grad_x D(x)||^2] over real examples,
    each example's whole flattened gradient. `loss_scale` as in `gradient_penalty`."""
    return input_gradient(critic, real.detach(), loss_scale).flatten(1).pow(2).sum(1).mean()


def input_gradient(critic: Callable[[Tensor], Tensor], x: Tensor, loss_scale: float | Tensor | None) -> Tensor:
    """d(sum of the critic's scores)/dx, differentiable again (the penalties are minimised)."""
    x = x.requires_grad_(True)
    score = critic(x).sum()
    if loss_scale is None:
        (grad,) = torch.autograd.grad(score, x, create_graph=True)
        return grad
    (scaled,) = torch.autograd.grad(score * loss_scale, x, create_graph=True)
    return scaled / loss_scale


class LeCamAnchors(nn.Module):
    """Tseng et al. 2021 (LeCam): moving averages of the critic's mean score on real and on generated
    data, as their code keeps them (decay 0.99, bias-corrected like TensorFlow's zero_debias), and the
    regulariser that pulls each kind of score toward the other's anchor:
    E[relu(D(x) - anchor_fake)^2] + E[relu(anchor_real - D(G(z)))^2]. Buffers: in the checkpoint."""

    def __init__(self, decay: float = 0.99) -> None:
        super().__init__()
        self.decay = decay
        self.register_buffer("real", torch.zeros(()))
        self.register_buffer("fake", torch.zeros(()))
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))

    def forward(self, real_scores: Tensor, fake_scores: Tensor, real_mean: Tensor, fake_mean: Tensor) -> Tensor:
        """Update the anchors with this step's mean scores (over all processes), then the regulariser."""
        with torch.no_grad():
            self.updates += 1
            self.real.lerp_(real_mean.detach(), 1 - self.decay)
            self.fake.lerp_(fake_mean.detach(), 1 - self.decay)
        debias = 1 - self.decay ** self.updates.float()
        anchor_real, anchor_fake = self.real / debias, self.fake / debias
        return (real_scores - anchor_fake).relu().pow(2).mean() + (anchor_real - fake_scores).relu().pow(2).mean()


def path_lengths(
    synthesis: Callable[[Tensor], Tensor], ws: Tensor, image_noise: Tensor, loss_scale: float | Tensor | None = None
) -> Tensor:
    """Karras et al. 2020, eq. 4's ||J_w^T y||_2 for each example, y ~ N(0, I) / sqrt(pixels) given
    as `image_noise`: one backward pass of sum(G(w) * y) to the styles `ws` (batch, num_ws, w_dim),
    whose squared norms are averaged over the style inputs as their code does. Differentiable
    again; `loss_scale` as in `gradient_penalty`."""
    grad = input_gradient(lambda w: synthesis(w) * image_noise, ws, loss_scale)
    return grad.square().sum(2).mean(1).sqrt()


class PathLengthTarget(nn.Module):
    """StyleGAN2's target path length: a moving average of the mean length (decay 0.01 per
    regularised step), and the penalty E[(length - target)^2]. Its buffer is in the checkpoint."""

    def __init__(self, decay: float = 0.01) -> None:
        super().__init__()
        self.decay = decay
        self.register_buffer("mean", torch.zeros(()))

    def forward(self, lengths: Tensor, mean_length: Tensor) -> Tensor:
        """Move the target toward this step's mean length (over all processes), then the penalty."""
        with torch.no_grad():
            self.mean.lerp_(mean_length.detach(), self.decay)
        return (lengths - self.mean).square().mean()


@torch.no_grad()
def clip_weights(module: nn.Module, clip_value: float) -> None:
    """Arjovsky et al. 2017, Algorithm 1: clamp every critic parameter to [-c, c] after each update."""
    for parameter in module.parameters():
        parameter.clamp_(-clip_value, clip_value)
