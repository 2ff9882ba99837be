"""How litgan's metrics are named where they are logged, and which way each is better: the
library's functions return bare names (`fid`, `modes`), `logged_names` gives them their `val/`
prefix, and the direction table serves best-so-far values, the checkpoint's and the sweeps'
`optimized_metric_mode`."""

from collections.abc import Mapping
from typing import Literal, TypeVar

Value = TypeVar("Value")

PREFIX = "val/"

# the rest (fid, kid, reverse_kl, cycle_error, their _domain variants, ...) are better lower
HIGHER_IS_BETTER = (
    "modes",
    "hq_fraction",
    "is",
    "precision",
    "recall",
    "class_accuracy",
    "reconstruction_class_accuracy",
    "translation_success",
    "content_preserved",
)


def logged_names(values: Mapping[str, Value]) -> dict[str, Value]:
    """`{"fid": v}` as it is logged and reported: `{"val/fid": v}`."""
    return {f"{PREFIX}{name}": value for name, value in values.items()}


def higher_is_better(name: str) -> bool:
    """`name` bare or as logged, e.g. `fid`, `val/fid_domain_best`, `val/accuracy_shape`."""
    base = name.rsplit("/", 1)[-1].removesuffix("_best").removesuffix("_domain")
    return base in HIGHER_IS_BETTER or base.startswith("accuracy_")


def has_best(name: str) -> bool:
    """Whether a best-so-far value is kept: not for the spread of an estimate (`is_std`)."""
    return not name.endswith(("_std", "_best"))


def metric_mode(name: str | None) -> Literal["min", "max"]:
    """`min` or `max`, as ModelCheckpoint's `mode` takes it (`min` for no metric)."""
    return "max" if name is not None and higher_is_better(name) else "min"
