"""Logs val/modes, val/hq_fraction and val/reverse_kl on mixtures of Gaussians."""

from typing import Any

from lightning import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info

from litgan.metrics import ModeCoverage
from litgan.metrics.mode_coverage import NUM_STD
from litgan.plots import shows_points


class ModeCoverageCallback(Callback):
    """Scores the samples the model generates during validation (one per real validation
    sample) against the datamodule's `modes` and `std`; does nothing on data without modes."""

    def __init__(self, num_std: float = NUM_STD) -> None:
        self.num_std = num_std
        self.metric: ModeCoverage | None = None

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        modes = trainer.datamodule.modes
        if modes is None:
            if shows_points(trainer.datamodule.data_shape):  # points, as the mixtures, but no modes
                rank_zero_info("ModeCoverageCallback: the dataset has no modes; val/modes etc. are not computed.")
            return
        self.metric = ModeCoverage(modes, trainer.datamodule.std, self.num_std).to(pl_module.device)

    def on_validation_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.metric is not None:
            self.metric.to(pl_module.device).reset()

    def on_validation_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if self.metric is not None:
            self.metric.update(outputs["fake"])

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.metric is None:
            return
        pl_module.log_validation(self.metric.compute(), prog_bar=("modes",))  # reduced over all processes
