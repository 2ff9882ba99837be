"""Logs the translation measures (`litgan.metrics.translation`) at every validation:
val/translation_success, val/content_preserved, val/accuracy_<attribute>, val/cycle_error, on
the embedded shapes tasks, whose scenes' attributes are known."""

from typing import Any

from lightning import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info

from litgan.metrics.translation import TranslationJudge
from litgan.models.contract import Capability


class TranslationMeasures(Callback):
    def __init__(self, cache_dir: str = ".cache/litgan", classifier_samples: int = 2000) -> None:
        self.cache_dir, self.classifier_samples = cache_dir, classifier_samples
        self.judge: TranslationJudge | None = None

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if Capability.TRANSLATE not in pl_module.capabilities:
            return
        if not trainer.datamodule.knows_attributes:
            rank_zero_info("TranslationMeasures: only the embedded shapes tasks have ground truth; not measuring.")
            return
        self.judge = TranslationJudge(trainer.datamodule.image_size, self.cache_dir, self.classifier_samples)

    def on_validation_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.judge is not None:
            self.judge.to(pl_module.device).reset()

    def on_validation_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if self.judge is not None:
            self.judge.update(*trainer.datamodule.expected_attributes(batch, outputs), outputs)

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.judge is None or trainer.sanity_checking:
            return
        pl_module.log_validation(self.judge.compute())
