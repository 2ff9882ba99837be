"""Adversarial losses, all written on the discriminator's raw outputs (logits / critic scores).

Working on logits rather than probabilities keeps log D and log(1 - D) finite:
log sigmoid(x) = -softplus(-x) and log(1 - sigmoid(x)) = -softplus(x).
"""

from torch import Tensor
from torch.nn import functional as F


class AdversarialLoss:
    """A pair of objectives: the discriminator (or critic) minimises `discriminator`,
    the generator minimises `generator`. Both return the batch mean."""

    def discriminator(self, real: Tensor, fake: Tensor) -> Tensor:
        raise NotImplementedError

    def generator(self, fake: Tensor) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MinimaxLoss(AdversarialLoss):
    """Goodfellow et al. 2014, the game as written: min_G max_D E log D(x) + E log(1 - D(G(z))).

    The generator's gradient vanishes when D confidently rejects its samples (D(G(z)) ~ 0),
    which is exactly the situation early in training; see `NonSaturatingLoss`.
    """

    def discriminator(self, real: Tensor, fake: Tensor) -> Tensor:
        return F.softplus(-real).mean() + F.softplus(fake).mean()

    def generator(self, fake: Tensor) -> Tensor:
        return -F.softplus(fake).mean()  # log(1 - D(G(z)))


class NonSaturatingLoss(MinimaxLoss):
    """Goodfellow et al. 2014, section 3: the generator maximises log D(G(z)) instead,
    same fixed point, strong gradients when D rejects the samples."""

    def generator(self, fake: Tensor) -> Tensor:
        return F.softplus(-fake).mean()  # -log D(G(z))


class WassersteinLoss(AdversarialLoss):
    """Arjovsky et al. 2017: the critic estimates W1 = E f(x) - E f(G(z)) under a Lipschitz
    constraint (weight clipping or a gradient penalty, applied by the model)."""

    def discriminator(self, real: Tensor, fake: Tensor) -> Tensor:
        return fake.mean() - real.mean()

    def generator(self, fake: Tensor) -> Tensor:
        return -fake.mean()


class HingeLoss(AdversarialLoss):
    """Lim & Ye 2017 / Miyato et al. 2018: hinge loss for D, critic score for G."""

    def discriminator(self, real: Tensor, fake: Tensor) -> Tensor:
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()

    def generator(self, fake: Tensor) -> Tensor:
        return -fake.mean()


class LeastSquaresLoss(AdversarialLoss):
    """Mao et al. 2017 (a = 0, b = c = 1), the adversarial loss CycleGAN uses."""

    def discriminator(self, real: Tensor, fake: Tensor) -> Tensor:
        return 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake**2).mean()

    def generator(self, fake: Tensor) -> Tensor:
        return 0.5 * ((fake - 1) ** 2).mean()
