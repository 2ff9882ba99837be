"""Improved precision and recall (Kynkäänniemi et al. 2019) on feature vectors."""

import torch
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat


def _knn_radii(features: Tensor, k: int, chunk: int) -> Tensor:
    """Distance of each vector to its k-th nearest neighbour in the same set (itself excluded)."""
    radii = [torch.cdist(part, features).kthvalue(k + 1, dim=1).values for part in features.split(chunk)]
    return torch.cat(radii)


def _inside_manifold(queries: Tensor, support: Tensor, radii: Tensor, chunk: int) -> Tensor:
    """Fraction of queries within the k-NN ball of some support vector."""
    inside = [(torch.cdist(part, support) <= radii).any(dim=1) for part in queries.split(chunk)]
    return torch.cat(inside).float().mean()


class PrecisionRecall(Metric):
    """precision: fraction of generated samples inside the real manifold; recall: fraction of real
    samples inside the generated manifold; manifolds are unions of k-NN balls (k = 3)."""

    full_state_update = False

    def __init__(self, k: int = 3, chunk: int = 1000) -> None:
        super().__init__()
        self.k, self.chunk = k, chunk
        self.add_state("real_features", [], dist_reduce_fx="cat")
        self.add_state("fake_features", [], dist_reduce_fx="cat")

    def update(self, features: Tensor, real: bool) -> None:
        (self.real_features if real else self.fake_features).append(features.float())

    def compute(self) -> tuple[Tensor, Tensor]:
        real, fake = dim_zero_cat(self.real_features), dim_zero_cat(self.fake_features)
        precision = _inside_manifold(fake, real, _knn_radii(real, self.k, self.chunk), self.chunk)
        recall = _inside_manifold(real, fake, _knn_radii(fake, self.k, self.chunk), self.chunk)
        return precision, recall
