"""Which way is better for each metric litgan logs: used for best-so-far values, the W&B
summary, and the direction a sweep optimises."""

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


def higher_is_better(name: str) -> bool:
    """`name` as logged, e.g. `val/fid`, `val/fid_domain_best`, `val/accuracy_shape`."""
    base = name.rsplit("/", 1)[-1].removesuffix("_best").removesuffix("_domain")
    return base in HIGHER_IS_BETTER or base.startswith("accuracy_")


def metric_directions(names) -> dict[str, str]:
    """`min` or `max` for each name, as ModelCheckpoint's `mode` takes it."""
    return {name: "max" if higher_is_better(name) else "min" for name in names}
