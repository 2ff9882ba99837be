"""A progress bar that counts generator steps toward `trainer.max_steps`."""

import time
from typing import Any

from lightning import LightningModule, Trainer
from lightning.pytorch.callbacks import RichProgressBar


class StepProgressBar(RichProgressBar):
    """One bar for the whole run. litgan's runs are bounded by `trainer.max_steps` with
    `max_epochs=-1`, and an epoch of resampled in-memory data means nothing, so Lightning's
    per-epoch bar ("Epoch 64/-2") says nothing about how far the run is.

    The bar is drawn `refresh_rate` times a second (tqdm's pace; Lightning's is 100), and updated
    as often: not after every step, since gathering the step's metrics for it costs Python time that
    a fast step notices (README, "Speed"). The last step is always shown."""

    def __init__(self, refresh_rate: int = 10, **kwargs: Any) -> None:
        super().__init__(refresh_rate=refresh_rate, **kwargs)
        self.last_update = float("-inf")

    @property
    def total_train_batches(self) -> int | float:
        max_steps = self.trainer.max_steps
        return max_steps if max_steps and max_steps > 0 else super().total_train_batches

    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.train_progress_bar_id is None:  # create the bar once, never reset it per epoch
            super().on_train_epoch_start(trainer, pl_module)

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        now = time.monotonic()
        if self.is_disabled or (
            now - self.last_update < 1 / self.refresh_rate and trainer.global_step != trainer.max_steps
        ):
            return
        self.last_update = now
        if self.train_progress_bar_id is None:  # resumed mid-epoch
            self._initialize_train_progress_bar_id()
        self._update_metrics(trainer, pl_module)
        self._update(self.train_progress_bar_id, trainer.global_step)

    def _get_train_description(self, current_epoch: int) -> str:
        return "Generator steps"

    def get_metrics(self, trainer: Trainer, pl_module: LightningModule) -> dict[str, int | str | float | dict]:
        """The progress-bar metrics, without the logger's version (`v_num`), which names nothing here."""
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        return metrics
