"""How well a translation model does its job on the embedded shapes tasks, judged by classifiers
of the scenes' own attributes. The datamodule says what each translation should show
(`expected_attributes`): which attributes the model was asked to set (CycleGAN: the background;
StarGAN: its domains, e.g. colour and size) and the source's values for the others.

    translation_success   every asked-for attribute shows its target value
    content_preserved     every other attribute (e.g. shape, size) is unchanged
    accuracy_<attribute>  one attribute at a time: it shows its target value (asked-for
                          attributes) or the source's (the others)
    cycle_error           mean |reconstruction - source| (F(G(a)) for CycleGAN, G(G(x, c), c_x) for StarGAN)
"""

import torch
from torch import Tensor
from torchmetrics import MeanMetric

from litgan.data.shapes import ATTRIBUTES, ShapesDataModule
from litgan.metrics.domain_classifier import load_or_train
from litgan.models.contract import ValidationOutputs

MEASURES = ("translation_success", "content_preserved", "cycle_error", *(f"accuracy_{a}" for a in ATTRIBUTES))


class TranslationJudge:
    """Running means of the measures over the batches of one validation (torchmetrics states:
    they synchronise across processes in `compute`). The attribute classifiers train on
    `classifier_samples` scenes of the data's image size, with blur and noise, and are cached."""

    def __init__(self, image_size: int, cache_dir: str, classifier_samples: int = 2000) -> None:
        self.classifiers = {}
        for attribute in ATTRIBUTES:
            scenes = ShapesDataModule(classifier_samples, 1000, image_size=image_size, label=attribute)
            self.classifiers[attribute], _ = load_or_train(scenes, cache_dir, blur=True)
        self.means = {name: MeanMetric() for name in MEASURES}

    def to(self, device: torch.device) -> "TranslationJudge":
        for module in (*self.classifiers.values(), *self.means.values()):
            module.to(device)
        return self

    def reset(self) -> None:
        for metric in self.means.values():
            metric.reset()

    @torch.no_grad()
    def update(self, expected: Tensor, controlled: tuple[str, ...], outputs: ValidationOutputs) -> None:
        """`expected`: the attribute codes each translation should show (datamodule.expected_attributes)."""
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

    def compute(self) -> dict[str, Tensor]:
        """The measures of the batches seen so far (over all processes)."""
        return {name: metric.compute() for name, metric in self.means.items() if metric.update_count}
