"""What reaches the console: plain tables (they go to log files too), and not the lines that
libraries print in every run and that the user can do nothing about; what W&B must say stays (its own settings, `loggers/wandb.py`). Optuna's database
set-up, before any job, is quieted in Hydra's logging config (configs/hydra/default.yaml)."""

import logging

# (logger, starts of messages): Lightning's device lines ("GPU available: False, used: False"), its
# advertisement for its cloud logger, and lines litgan's own say better
CHATTER = (
    (
        "lightning.pytorch.utilities.rank_zero",
        (
            "GPU available:",
            "TPU available:",
            "💡 Tip:",
            "Trainer already configured with model summary",  # litgan's summary replaces Lightning's
            "`Trainer.fit` stopped:",  # the run's report says where training ended
        ),
    ),
)


class StartsWith(logging.Filter):
    def __init__(self, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefixes)


def quiet_library_chatter() -> None:
    """Idempotent: a notebook may train many times in one process."""
    for name, prefixes in CHATTER:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, StartsWith) for existing in logger.filters):
            logger.addFilter(StartsWith(prefixes))


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """A plain-text table, for the console and the log file alike."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
    return "\n".join([lines[0], "  ".join("-" * width for width in widths), *lines[1:]])


def metrics_table(values: dict[str, float]) -> str:
    if not values:
        return "(no metrics measured)"
    return table([(name, f"{value:.4g}") for name, value in values.items()], ("metric", "value"))
