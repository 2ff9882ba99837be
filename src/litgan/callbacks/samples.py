"""Saves a picture of the generator's samples at every validation and sends it to every logger:
a scatter plot over the real data for 2-D points, a grid for images. The samples come from the
validation noise, which is the same at every validation, so successive pictures show how the
same latent points move."""

from pathlib import Path
from typing import Any

import numpy as np
import torch
from lightning import Callback, LightningModule, Trainer
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger
from PIL import Image
from torch import Tensor

from litgan.callbacks.report import validation_values
from litgan.plots import image_grid, scatter_plot, shows_points
from litgan.utils.metric_names import PREFIX


def log_png(trainer: Trainer, key: str, path: Path) -> None:
    """Send a saved PNG to the loggers that store images (W&B, TensorBoard)."""
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger):
            logger.log_image(key=key, images=[str(path)])  # in the row of this validation's metrics
        elif isinstance(logger, TensorBoardLogger):
            image = np.asarray(Image.open(path).convert("RGB"))
            logger.experiment.add_image(key, image, trainer.global_step, dataformats="HWC")


class SamplePlots(Callback):
    """Points: a scatter of the validation samples over the real ones. Images: the model's own
    grid (`sample_grid`: samples from fixed noise, class rows, translations, ...)."""

    def __init__(self, output_dir: str, num_samples: int = 1000, grid_rows: int = 8) -> None:
        self.output_dir = Path(output_dir)
        self.num_samples = num_samples
        self.grid_rows = grid_rows
        self._real: list[Tensor] = []
        self._fake: list[Tensor] = []
        self._first_batch: tuple[Tensor, ...] = ()  # the inputs of models that translate or encode

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        # points are scattered from the validation samples; images are drawn by the model itself
        self.points = shows_points(trainer.datamodule.data_shape)

    def on_validation_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._real, self._fake, self._first_batch = [], [], ()

    def on_validation_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if batch_idx == 0 and trainer.is_global_zero:
            self._first_batch = tuple(batch)
        if self.points and trainer.is_global_zero and sum(len(f) for f in self._fake) < self.num_samples:
            self._real.append(outputs["real"].detach().cpu())
            self._fake.append(outputs["fake"].detach().cpu())

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        """After the metric callbacks have logged: the scatter's title carries their values."""
        if not trainer.is_global_zero or trainer.sanity_checking or (self.points and not self._fake):
            return
        self.output_dir.mkdir(parents=True, exist_ok=True)
        path = self.output_dir / f"samples_step{trainer.global_step:07d}.png"
        title = f"generator step {trainer.global_step}"
        if self.points:
            real, fake = torch.cat(self._real)[: self.num_samples], torch.cat(self._fake)[: self.num_samples]
            values = ", ".join(
                f"{name.removeprefix(PREFIX)} {value:.3g}" for name, value in validation_values(trainer).items()
            )
            scatter_plot(real, fake, path, title=f"{title}\n{values}" if values else title)
        else:
            with torch.no_grad():
                grid = pl_module.sample_grid(self._first_batch, self.grid_rows)
            image_grid(grid.images.cpu(), path, nrow=self.grid_rows, title=title, row_labels=grid.row_labels)
        log_png(trainer, "val/samples", path)
