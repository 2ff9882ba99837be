"""Pictures of samples, shared by the sample-plot callback and eval.py: a scatter over the real
data for 2-D points, a grid for images."""

from pathlib import Path

# a Figure without pyplot draws off-screen whatever the process's backend (servers, CI) and leaves
# that backend alone (a notebook's inline figures)
from matplotlib.figure import Figure
from PIL import Image
from torch import Tensor
from torchvision.utils import make_grid

from litgan.utils.files import atomic_write


def shows_points(data_shape: tuple[int, ...] | list[int]) -> bool:
    """Whether samples of this shape are drawn as a scatter of 2-D points (else as images)."""
    return tuple(data_shape) == (2,)


def scatter_plot(real: Tensor, fake: Tensor, path: Path, title: str) -> None:
    fig = Figure(figsize=(5, 5), dpi=100)
    ax = fig.subplots()
    ax.scatter(*real.T, s=4, alpha=0.3, c="tab:blue", label="data")
    ax.scatter(*fake.T, s=4, alpha=0.5, c="tab:orange", label="generated")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", markerscale=3)
    ax.set_title(title)
    atomic_write(path, lambda file: fig.savefig(file, format="png", bbox_inches="tight"))


def image_grid(images: Tensor, path: Path, nrow: int) -> None:
    grid = make_grid(images.float().clamp(-1, 1), nrow=nrow, normalize=True, value_range=(-1, 1))
    picture = Image.fromarray(grid.mul(255).round().byte().permute(1, 2, 0).cpu().numpy())
    atomic_write(path, lambda file: picture.save(file, format="PNG"))
