"""Improved precision and recall (Kynkäänniemi et al. 2019) on feature vectors."""

import torch
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat


def knn_radii(features: Tensor, k: int, block: int) -> Tensor:
    """Distance of each vector to its k-th nearest neighbour in the same set (itself excluded),
    in `block` x `block` pieces of the distance matrix: memory does not grow with the set."""
    radii = []
    for queries in features.split(block):
        nearest = torch.full((len(queries), 0), float("inf"), device=features.device)
        for support in features.split(block):
            distances = torch.cat([nearest, torch.cdist(queries, support)], dim=1)
            nearest = distances.topk(min(k + 1, distances.shape[1]), dim=1, largest=False).values
        radii.append(nearest[:, k])
    return torch.cat(radii)


def inside_manifold(queries: Tensor, support: Tensor, radii: Tensor, block: int) -> Tensor:
    """Fraction of queries within the k-NN ball of some support vector, in blocks as `knn_radii`."""
    inside = []
    for part in queries.split(block):
        hit = torch.zeros(len(part), dtype=torch.bool, device=part.device)
        for start in range(0, len(support), block):
            distances = torch.cdist(part, support[start : start + block])
            hit |= (distances <= radii[start : start + block]).any(dim=1)
        inside.append(hit)
    return torch.cat(inside).float().mean()


class PrecisionRecall(Metric):
    """precision: fraction of generated samples inside the real manifold; recall: fraction of real
    samples inside the generated manifold; manifolds are unions of k-NN balls (k = 3).

    With `reset_real_features=False` (as torchmetrics' FID), the real features and their k-NN
    radii outlive `reset`: a run's validations compute the real radii, O(reals²), once."""

    full_state_update = False

    def __init__(self, k: int = 3, block: int = 1000, reset_real_features: bool = True) -> None:
        super().__init__()
        self.k, self.block, self.reset_real_features = k, block, reset_real_features
        self.add_state("real_features", [], dist_reduce_fx="cat")
        self.add_state("fake_features", [], dist_reduce_fx="cat")
        self.real_radii: Tensor | None = None

    def update(self, features: Tensor, real: bool) -> None:
        if real:
            self.real_radii = None
        (self.real_features if real else self.fake_features).append(features.float())

    def reset(self) -> None:
        if self.reset_real_features:
            self.real_radii = None
            super().reset()
            return
        default = self._defaults.pop("real_features")  # as torchmetrics' KID keeps its real features
        super().reset()
        self._defaults["real_features"] = default

    def compute(self) -> tuple[Tensor, Tensor]:
        real, fake = dim_zero_cat(self.real_features), dim_zero_cat(self.fake_features)
        if self.real_radii is None:
            self.real_radii = knn_radii(real, self.k, self.block)
        precision = inside_manifold(fake, real, self.real_radii, self.block)
        recall = inside_manifold(real, fake, knn_radii(fake, self.k, self.block), self.block)
        return precision, recall
