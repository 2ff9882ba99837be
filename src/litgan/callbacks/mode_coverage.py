"""Logs val/modes, val/hq_fraction and val/reverse_kl on mixtures of Gaussians."""

from typing import Any

from lightning import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info

from litgan.metrics import ModeCoverage


class ModeCoverageCallback(Callback):
    """Scores the samples the model generates during validation (one per real validation
    sample) against the datamodule's `modes` and `std`; does nothing on data without modes."""

    def __init__(self, num_std: float = 3.0) -> None:
        self.num_std = num_std
        self.metric: ModeCoverage | None = None

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        modes = trainer.datamodule.modes
        if modes is None:
            if tuple(trainer.datamodule.data_shape) == (2,):  # points, as the mixtures, but no modes
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
        values = self.metric.compute()  # already reduced over all processes
        for name, value in values.items():
            pl_module.log(f"val/{name}", value, prog_bar=name == "modes")
