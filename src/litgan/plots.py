"""Pictures of samples, shared by the sample-plot callback and eval.py: a scatter over the real
data for 2-D points, a grid for images; each with a title that says what it shows."""

from collections.abc import Sequence
from pathlib import Path

# a Figure without pyplot draws off-screen whatever the process's backend (servers, CI) and leaves
# that backend alone (a notebook's inline figures)
from matplotlib.figure import Figure
from torch import Tensor
from torchvision.utils import make_grid

from litgan.utils.files import atomic_write


def shows_points(data_shape: tuple[int, ...] | list[int]) -> bool:
    """Whether samples of this shape are drawn as a scatter of 2-D points (else as images)."""
    return tuple(data_shape) == (2,)


def save(fig: Figure, path: Path) -> None:
    atomic_write(path, lambda file: fig.savefig(file, format="png", bbox_inches="tight"))


def scatter_plot(real: Tensor, fake: Tensor, path: Path, title: str) -> None:
    """The generated points under the data's, so that where samples miss the data shows."""
    fig = Figure(figsize=(5, 5), dpi=100)
    ax = fig.subplots()
    ax.scatter(*fake.T, s=4, alpha=0.5, c="tab:orange", label=f"generated ({len(fake):,})", zorder=1)
    ax.scatter(*real.T, s=4, alpha=0.3, c="tab:blue", label=f"data ({len(real):,})", zorder=2)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", markerscale=3)
    ax.set_title(title)
    save(fig, path)


def image_grid(images: Tensor, path: Path, nrow: int, title: str, row_labels: Sequence[str] = ()) -> None:
    """`images` in rows of `nrow`, titled, each row labelled on the left where `row_labels` are given."""
    padding = 2
    grid = make_grid(images.float().clamp(-1, 1), nrow=nrow, normalize=True, value_range=(-1, 1), padding=padding)
    height, width = grid.shape[1:]
    fig = Figure(figsize=(max(3.0, width / 60), max(3.0, height / 60) + 0.4), dpi=100)
    ax = fig.subplots()
    ax.imshow(grid.permute(1, 2, 0).cpu().numpy(), interpolation="nearest")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    if row_labels:
        row_height = (height - padding) / len(row_labels)
        ax.set_yticks([padding / 2 + row_height * (row + 0.5) for row in range(len(row_labels))], list(row_labels))
        ax.tick_params(axis="y", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    save(fig, path)
