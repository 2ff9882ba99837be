"""How well a translation model does its job on the embedded shapes tasks, judged by classifiers
of the scenes' own attributes. The datamodule says what each translation should show
(`expected_attributes`): which attributes the model was asked to set (CycleGAN: the background;
StarGAN: its domains, e.g. colour and size) and the source's values for the others.

    val/translation_success   every asked-for attribute shows its target value
    val/content_preserved     every other attribute (e.g. shape, size) is unchanged
    val/accuracy_<attribute>  one attribute at a time: it shows its target value (asked-for
                              attributes) or the source's (the others)
    val/cycle_error           mean |reconstruction - source| (F(G(a)) for CycleGAN, G(G(x, c), c_x) for StarGAN)
"""

from typing import Any

import torch
from lightning import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info
from torchmetrics import MeanMetric

from litgan.data.shapes import ATTRIBUTES, ShapesDataModule
from litgan.metrics.domain_classifier import load_or_train


class TranslationMeasures(Callback):
    def __init__(self, cache_dir: str = ".cache/litgan", classifier_samples: int = 2000) -> None:
        self.cache_dir, self.classifier_samples = cache_dir, classifier_samples
        self.classifiers: dict[str, torch.nn.Module] = {}
        names = ["translation_success", "content_preserved", "cycle_error", *(f"accuracy_{a}" for a in ATTRIBUTES)]
        self.means = {name: MeanMetric() for name in names}

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if not trainer.datamodule.knows_attributes:
            rank_zero_info("TranslationMeasures: only the embedded shapes tasks have ground truth; not measuring.")
            return
        size = trainer.datamodule.image_size
        for attribute in ATTRIBUTES:
            scenes = ShapesDataModule(self.classifier_samples, 1000, image_size=size, label=attribute)
            self.classifiers[attribute], _ = load_or_train(scenes, self.cache_dir, blur=True)

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
        expected, controlled = trainer.datamodule.expected_attributes(batch, outputs)
        correct = {
            name: self.classifiers[name](outputs["fake"])[1].argmax(1) == expected[:, column]
            for column, name in enumerate(ATTRIBUTES)
        }
        for name in ATTRIBUTES:
            self.means[f"accuracy_{name}"].update(correct[name].float())
        others = [name for name in ATTRIBUTES if name not in controlled]
        self.means["translation_success"].update(torch.stack([correct[n] for n in controlled]).all(0).float())
        self.means["content_preserved"].update(torch.stack([correct[n] for n in others]).all(0).float())
        self.means["cycle_error"].update((outputs["reconstructed"] - outputs["source"]).abs().flatten(1).mean(1))

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not self.classifiers or trainer.sanity_checking:
            return
        for name, metric in self.means.items():
            pl_module.log(f"val/{name}", metric.compute())
