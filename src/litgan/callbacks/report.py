"""What a run says on the console and in its log (`train.log`): one line per validation, and at
the end a table of each metric's best and last value, the checkpoints, and where W&B's run is."""

import logging
from pathlib import Path
from typing import Any

from lightning import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelSummary
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.utilities.model_summary import get_human_readable_count

from litgan.utils.console import table
from litgan.utils.metric_names import PREFIX, has_best

log = logging.getLogger("litgan")


def validation_values(trainer: Trainer) -> dict[str, float]:
    """This validation's `val/` values, without the best-so-far series."""
    return {
        name: float(value)
        for name, value in sorted(trainer.callback_metrics.items())
        if name.startswith(PREFIX) and has_best(name) and not name.endswith("_std")
    }


class RunReport(Callback):
    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.is_global_zero:
            for logger in trainer.loggers:
                if isinstance(logger, WandbLogger):
                    log.info("%s", "\n".join(wandb_lines(logger.experiment)))

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        values = validation_values(trainer)
        if trainer.sanity_checking or not trainer.is_global_zero or not values:
            return
        log.info(
            "Validation at generator step %d: %s",
            trainer.global_step,
            ", ".join(f"{name.removeprefix(PREFIX)} {value:.4g}" for name, value in values.items()),
        )

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        values = validation_values(trainer)
        lines = [f"Training ended at generator step {trainer.global_step}."]
        if values:
            rows = [
                (name, f"{trainer.callback_metrics[f'{name}_best'].item():.4g}", f"{value:.4g}")
                for name, value in values.items()
                if f"{name}_best" in trainer.callback_metrics
            ]
            lines.append(table(rows, ("metric", "best", "last")))
        for checkpoint in trainer.checkpoint_callbacks:
            if checkpoint.best_model_path:
                which = f"best by {checkpoint.monitor}" if checkpoint.monitor else "last"
                lines.append(f"Checkpoint ({which}): {checkpoint.best_model_path}")
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                lines.extend(wandb_lines(logger.experiment))
        log.info("\n".join(lines))


def wandb_lines(run: Any) -> list[str]:
    """Where W&B's run is, and how to see or upload it."""
    folder = Path(run.dir).parent
    if run.settings.mode == "offline":
        return [f"W&B run (offline): {folder}", f"  see it: wandb leet {folder}; upload it: wandb sync {folder}"]
    return [f"W&B run: {run.url} (files in {folder})"]


class ParameterSummary(ModelSummary):
    """The nets and their parameter counts: Lightning's summary without its FLOPs column, which
    needs one example input for the whole module, and a GAN's nets take different ones."""

    @staticmethod
    def summarize(
        summary_data: list[tuple[str, list[str]]],
        total_parameters: int,
        trainable_parameters: int,
        model_size: float,
        total_training_modes: dict[str, int],
        total_flops: int,
        **summarize_kwargs: Any,
    ) -> None:
        columns = dict(summary_data)
        rows = list(zip(columns["Name"], columns["Type"], columns["Params"]))
        log.info(
            "%s\n%s trainable parameters, %s in all (%.1f MB)",
            table(rows, ("net", "type", "parameters")),
            get_human_readable_count(trainable_parameters),
            get_human_readable_count(total_parameters),
            model_size,
        )
