"""FID / IS / KID / precision-recall (or the domain-feature FID) during training, correct under
DDP: a Lightning adapter over `litgan.metrics.evaluator.ImageMetricEvaluator`."""

from typing import Any

from lightning import Callback, LightningModule, Trainer

from litgan.metrics.evaluator import ImageMetricEvaluator
from litgan.metrics.image_quality import refuse_what_metrics_cannot_score

QUALITY_METRICS = ("val/fid", "val/is", "val/kid", "val/precision", "val/recall")


class ImageQualityMetrics(Callback):
    """At every validation (`trainer.val_check_interval` generator steps; the metrics configs
    set it), each process generates its share of `num_samples` images from the same seeded
    noise, the metric states are synchronised, and `val/<metric>` plus `val/<metric>_best` go
    to every logger (`AdversarialModel.log_validation`). The arguments are the evaluator's."""

    def __init__(self, **evaluator: Any) -> None:
        self.evaluator = ImageMetricEvaluator(**evaluator)
        self.active = False

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        """Fail now, not after an hour of training: a model without samples, data that are not
        images, missing weights."""
        refuse_what_metrics_cannot_score(pl_module, trainer.datamodule)
        self.active = self.evaluator.prepare(trainer.datamodule)
        if not self.active:  # on_missing_weights=skip: checkpoints would wait for a metric that never comes
            for checkpoint in trainer.checkpoint_callbacks:
                if checkpoint.monitor and checkpoint.monitor.startswith(QUALITY_METRICS):
                    checkpoint.monitor = None

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not self.active or trainer.sanity_checking:
            return
        values = self.evaluator.measure(
            pl_module, trainer.datamodule, trainer.global_rank, trainer.world_size, trainer.strategy.barrier
        )
        pl_module.log_validation(values)
