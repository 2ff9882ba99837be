"""How well a translation model does its job on the embedded shapes task, measured by
classifiers of the scenes' own attributes: val/translation_success (G(a) has B's background),
val/content_preserved (G(a) keeps a's shape, colour and size), val/cycle_error (mean |F(G(a)) - a|)."""

from typing import Any

import torch
from lightning import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info
from torchmetrics import MeanMetric

from litgan.data.shapes import ATTRIBUTES, ShapesDataModule
from litgan.data.unpaired import UnpairedShapesDataModule
from litgan.metrics.domain_classifier import load_or_train

CONTENT = ("shape", "color", "size")


class TranslationMeasures(Callback):
    def __init__(self, cache_dir: str = ".cache/litgan", classifier_samples: int = 2000) -> None:
        self.cache_dir, self.classifier_samples = cache_dir, classifier_samples
        self.classifiers: dict[str, torch.nn.Module] = {}
        self.means = {name: MeanMetric() for name in ("translation_success", "content_preserved", "cycle_error")}

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if not isinstance(trainer.datamodule, UnpairedShapesDataModule):
            rank_zero_info("TranslationMeasures: only the embedded shapes task has ground truth; not measuring.")
            return
        size = trainer.datamodule.image_size
        for attribute in ATTRIBUTES:
            scenes = ShapesDataModule(self.classifier_samples, 1000, image_size=size, label=attribute)
            self.classifiers[attribute], _ = load_or_train(scenes, self.cache_dir)

    def on_validation_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        for metric in self.means.values():
            metric.to(pl_module.device).reset()
        for classifier in self.classifiers.values():
            classifier.to(pl_module.device)

    @torch.no_grad()
    def on_validation_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not self.classifiers:
            return
        translated, codes_a = outputs["fake"], batch[2]
        light = ATTRIBUTES["background"].index("light")
        success = self.classifiers["background"](translated)[1].argmax(1) == light
        kept = torch.stack(
            [
                self.classifiers[name](translated)[1].argmax(1) == codes_a[:, list(ATTRIBUTES).index(name)]
                for name in CONTENT
            ]
        ).all(dim=0)
        self.means["translation_success"].update(success.float())
        self.means["content_preserved"].update(kept.float())
        self.means["cycle_error"].update((outputs["rec_a"] - outputs["a"]).abs().flatten(1).mean(1))

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.classifiers and not trainer.sanity_checking:
            for name, metric in self.means.items():
                pl_module.log(f"val/{name}", metric.compute())
