"""An exponential moving average of the generator's weights (Karras et al. 2018; Yazıcı et al.
2019), which samples, plots, metrics and eval.py use in place of the trained generator."""

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


def averaged_copy(generator: nn.Module) -> AveragedModel:
    """The average's copy of `generator`; its averaging function is set at each update."""
    return AveragedModel(generator, use_buffers=True).requires_grad_(False)


@torch.no_grad()
def update_average(average: AveragedModel, generator: nn.Module, step: int, decay: float, start: int) -> None:
    """After generator step `step`: for the first `start` steps the average is the current
    generator; after them the decay warms up as TensorFlow's ExponentialMovingAverage does,
    min(decay, (1 + n) / (10 + n)) at the n-th averaged step, so that early weights do not linger.
    Batch-norm statistics are averaged with the weights, so that the averaged weights normalise
    with statistics of the same age."""
    if step <= start:
        average.n_averaged.zero_()  # AveragedModel copies on its first update
    averaged_steps = max(0, step - max(start, 1))  # updates since the last copy
    average.multi_avg_fn = get_ema_multi_avg_fn(min(decay, (1 + averaged_steps) / (10 + averaged_steps)))
    average.update_parameters(generator)
