"""Mode coverage on mixtures of Gaussians, as VEEGAN (Srivastava et al. 2017) and PacGAN
(Lin et al. 2018) measure it."""

import math

import torch
from torch import Tensor
from torchmetrics import Metric

NUM_STD = 3.0  # VEEGAN's and PacGAN's threshold


class ModeCoverage(Metric):
    """A sample is *high quality* if it lies within `num_std` standard deviations of its nearest
    mode; a mode is *captured* if some high-quality sample is nearest to it.

    compute() returns
      modes:       number of captured modes,
      hq_fraction: fraction of samples that are high quality,
      reverse_kl:  KL(q || p) between the distribution q of high-quality samples over modes and
                   the true (uniform) mode distribution p; log(num_modes) when no sample is
                   high quality (as bad as collapsing onto one mode).
    """

    full_state_update = False

    def __init__(self, modes: Tensor, std: float, num_std: float = NUM_STD) -> None:
        super().__init__()
        self.register_buffer("modes", torch.as_tensor(modes, dtype=torch.float32))
        self.threshold = num_std * std
        self.add_state("mode_counts", torch.zeros(len(modes), dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("total", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, samples: Tensor) -> None:
        distances = torch.cdist(samples.float(), self.modes)
        nearest_distance, nearest = distances.min(dim=1)
        high_quality = nearest_distance <= self.threshold
        self.mode_counts += torch.bincount(nearest[high_quality], minlength=len(self.modes))
        self.total += len(samples)

    def compute(self) -> dict[str, Tensor]:
        num_modes = len(self.modes)
        high_quality = self.mode_counts.sum()
        if high_quality == 0:
            reverse_kl = torch.tensor(math.log(num_modes), device=self.mode_counts.device)
        else:
            q = self.mode_counts.float() / high_quality
            reverse_kl = torch.where(q > 0, q * torch.log(q * num_modes), torch.zeros_like(q)).sum()
        return {
            "modes": (self.mode_counts > 0).sum().float(),
            "hq_fraction": high_quality.float() / self.total.clamp(min=1),
            "reverse_kl": reverse_kl,
        }
