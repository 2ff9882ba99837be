"""Pictures of samples, shared by the sample-plot callback and eval.py: a scatter over the real
data for 2-D points, a grid for images."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image  # noqa: E402
from torch import Tensor  # noqa: E402
from torchvision.utils import make_grid  # noqa: E402


def scatter_plot(real: Tensor, fake: Tensor, path: Path, title: str) -> None:
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.scatter(*real.T, s=4, alpha=0.3, c="tab:blue", label="data")
    ax.scatter(*fake.T, s=4, alpha=0.5, c="tab:orange", label="generated")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", markerscale=3)
    ax.set_title(title)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def image_grid(images: Tensor, path: Path, nrow: int) -> None:
    grid = make_grid(images.float().clamp(-1, 1), nrow=nrow, normalize=True, value_range=(-1, 1))
    Image.fromarray(grid.mul(255).round().byte().permute(1, 2, 0).cpu().numpy()).save(path)
