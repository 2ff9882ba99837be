"""Learning-rate schedules stepped once per generator update."""

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


def constant_then_linear_decay(optimizer: Optimizer, total_steps: int, decay_start: float = 0.5) -> LambdaLR:
    """CycleGAN / StarGAN: the base rate for the first `decay_start` of `total_steps` generator
    updates, then linearly down to 0 at `total_steps` (CycleGAN: 100 + 100 epochs)."""
    constant = int(total_steps * decay_start)
    decay = max(1, total_steps - constant)
    return LambdaLR(optimizer, lambda step: max(0.0, 1.0 - max(0, step - constant) / decay))
