"""checkpoints/last.ckpt: rewritten every N generator steps and once more when training ends."""

from lightning import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint


class LastCheckpoint(ModelCheckpoint):
    """A non-monitoring ModelCheckpoint that also saves the final state, so a run whose
    `max_steps` is not a multiple of `every_n_train_steps` still ends with a checkpoint of its
    last step (to resume from, or to evaluate)."""

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_train_end(trainer, pl_module)
        if self.monitor is None and not self._should_skip_saving_checkpoint(trainer):
            self._save_none_monitor_checkpoint(trainer, self._monitor_candidates(trainer))
