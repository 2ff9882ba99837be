"""The run's checkpoints: checkpoints/last.ckpt (every N generator steps, at the end, and when a
signal stops the run) and the best one by `optimized_metric`."""

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from lightning import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_info

from litgan.utils.errors import ConfigError, Interrupted
from litgan.utils.metric_names import has_best


class LastCheckpoint(ModelCheckpoint):
    """A non-monitoring ModelCheckpoint that also saves the final state, so a run whose
    `max_steps` is not a multiple of `every_n_train_steps` still ends with a checkpoint of its
    last step (to resume from, or to evaluate).

    A run asked to stop, by SIGTERM (what SLURM and Kubernetes send before they kill a job) or by
    Ctrl-C, finishes the generator step it is in, saves it here and stops with `Interrupted`; a
    second Ctrl-C stops at once. Stopping between steps keeps the checkpoint one that resumes
    exactly."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stop_signal: int | None = None
        self._previous_handlers: dict[int, Any] = {}

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        self.stop_signal = None
        if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread
            # in place of Lightning's SIGTERM handler, which stops in the middle of a validation, unsaved
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous_handlers[signum] = signal.signal(signum, self._stop_after_this_step)

    def _stop_after_this_step(self, signum: int, frame: FrameType | None) -> None:
        self.stop_signal = signum
        if signum == signal.SIGINT:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            rank_zero_info("\nStopping after this step, with a checkpoint (Ctrl-C again: stop at once, unsaved).")

    def on_train_batch_end(self, trainer: Trainer, pl_module: LightningModule, *args: Any) -> None:
        super().on_train_batch_end(trainer, pl_module, *args)
        self._stop_if_asked(trainer)

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        if not trainer.sanity_checking:
            self._stop_if_asked(trainer)

    def _stop_if_asked(self, trainer: Trainer) -> None:
        # every process of a DDP run stops after the same step: saving is a collective operation
        if not trainer.strategy.reduce_boolean_decision(self.stop_signal is not None, all=False):
            return
        candidates = self._monitor_candidates(trainer)
        if self._last_global_step_saved != trainer.global_step:
            self._save_none_monitor_checkpoint(trainer, candidates)
        checkpoint = Path(self.format_checkpoint_name(candidates)).resolve()
        raise Interrupted(self.stop_signal or signal.SIGTERM, trainer.global_step, checkpoint)

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_train_end(trainer, pl_module)
        if self.monitor is None and not self._should_skip_saving_checkpoint(trainer):
            self._save_none_monitor_checkpoint(trainer, self._monitor_candidates(trainer))

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        self.teardown(trainer, pl_module, "fit")

    def teardown(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)
        self._previous_handlers = {}


class BestCheckpoint(ModelCheckpoint):
    """The checkpoint with the best `optimized_metric` so far; a metric that this run's validation
    does not log is refused by name, with the metrics it does log."""

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.monitor is not None and not trainer.sanity_checking and self.monitor not in trainer.callback_metrics:
            logged = sorted(name for name in trainer.callback_metrics if name.startswith("val/") and has_best(name))
            raise ConfigError(
                f"optimized_metric={self.monitor} is not logged by this run's validation, which logs "
                f"{', '.join(logged) or 'no val/ metric'}: set optimized_metric to one of them, or to null."
            )
        super().on_validation_end(trainer, pl_module)
