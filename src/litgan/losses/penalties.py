"""Ways of keeping a Wasserstein critic (approximately) 1-Lipschitz."""

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
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    score = critic(mixed).sum()
    if loss_scale is None:
        (grad,) = torch.autograd.grad(score, mixed, create_graph=True)
    else:
        (scaled,) = torch.autograd.grad(score * loss_scale, mixed, create_graph=True)
        grad = scaled / loss_scale
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


@torch.no_grad()
def clip_weights(module: nn.Module, clip_value: float) -> None:
    """Arjovsky et al. 2017, Algorithm 1: clamp every critic parameter to [-c, c] after each update."""
    for parameter in module.parameters():
        parameter.clamp_(-clip_value, clip_value)
