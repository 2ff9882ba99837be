"""A progress bar for the long loops outside training (the first check of a large folder, eval.py's
generation and scoring); short loops stay quiet."""

from collections.abc import Iterable, Sized
from typing import TypeVar

import rich.progress

T = TypeVar("T")


def tracked(items: Iterable[T], description: str, long_from: int, total: int | None = None) -> Iterable[T]:
    """`items` (`total` of them, where they have no len), with a transient progress bar on the
    console when there are `long_from` or more."""
    count = total if total is not None else len(items) if isinstance(items, Sized) else 0
    if count < long_from:
        return items
    return rich.progress.track(items, description=description, total=count, transient=True)
