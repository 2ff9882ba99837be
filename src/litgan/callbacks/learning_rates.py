"""The learning rate of each optimiser, named by the role of the nets it trains
(`lr/generator`, `lr/discriminator`), on the steps that log."""

from typing import Any

from lightning import Callback, LightningModule, Trainer

from litgan.models.base import AdversarialModel


class LearningRates(Callback):
    """Lightning's LearningRateMonitor names the curves by optimiser class (`lr-Adam`, `lr-Adam-1`),
    which cannot tell the generator's from the discriminator's."""

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: AdversarialModel | LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if trainer.global_step % trainer.log_every_n_steps != 0 and trainer.global_step != trainer.max_steps:
            return
        optimizers = pl_module.optimizers(use_pl_optimizer=False)
        for role, optimizer in zip(pl_module.optimizer_roles, optimizers):
            pl_module.log(f"lr/{role}", optimizer.param_groups[0]["lr"])
