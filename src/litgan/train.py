"""Training: compose datamodule, model, callbacks and loggers from the config, fit, and return
the metrics (the one named `optimized_metric` is what Hydra sweepers minimise)."""

import logging
from typing import Any

import hydra
import lightning as L
from lightning import Callback, LightningDataModule, LightningModule, Trainer
from lightning.pytorch.loggers import Logger
from lightning.pytorch.strategies import DDPStrategy
from omegaconf import DictConfig, OmegaConf

from litgan.utils.wandb_mode import choose_wandb_mode

log = logging.getLogger(__name__)


def instantiate_group(group: DictConfig | None) -> list[Any]:
    """Instantiate every `_target_` entry of a config group such as `callbacks` or `logger`."""
    return [hydra.utils.instantiate(entry) for entry in (group or {}).values() if entry and "_target_" in entry]


def build_model(cfg: DictConfig, datamodule: LightningDataModule) -> LightningModule:
    """The LightningModule for this data: nets are built for the dataset's sample shape (and, for
    StarGAN, its domain labels); translation models and the data they need refuse each other."""
    model_class = hydra.utils.get_class(cfg.model._target_)
    unpaired = getattr(model_class, "needs_unpaired_domains", False)
    labelled_domains = getattr(model_class, "needs_domain_labels", False)
    if unpaired != datamodule.unpaired_domains or (labelled_domains and not datamodule.domain_groups):
        wants = (
            "two unpaired image domains" if unpaired
            else "images labelled with attribute domains" if labelled_domains
            else "one dataset"
        )  # fmt: skip
        raise ValueError(
            f"{model_class.__name__} trains on {wants}, which {type(datamodule).__name__} does not provide: "
            "model=cyclegan goes with data=unpaired_shapes or unpaired_folder, model=stargan with data=shape_domains "
            "or celeba, the other models with neither of the unpaired ones."
        )
    extra = {"domain_groups": list(datamodule.domain_groups)} if labelled_domains else {}
    return hydra.utils.instantiate(
        cfg.model, data_shape=datamodule.data_shape, num_classes=datamodule.num_classes, **extra
    )


def make_trainer(cfg: DictConfig, callbacks: list[Callback], loggers: list[Logger]) -> Trainer:
    trainer: Trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    if cfg.trainer.get("strategy", "auto") == "auto" and isinstance(trainer.strategy, DDPStrategy):
        # Lightning picks DDP without unused-parameter search for several devices, but each
        # backward pass of manual optimisation reaches only one of the two nets.
        strategy = "ddp_find_unused_parameters_true"
        trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False, strategy=strategy)
    return trainer


def train(cfg: DictConfig) -> dict[str, Any]:
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)
    choose_wandb_mode()

    datamodule: LightningDataModule = hydra.utils.instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    # the checkpoint carries the config it was trained with, so eval.py can rebuild it anywhere
    model.save_hyperparameters({"run_config": OmegaConf.to_container(cfg, resolve=False)}, logger=False)
    callbacks: list[Callback] = instantiate_group(cfg.get("callbacks"))
    if cfg.get("metrics"):  # the image-quality metric callback chosen by metrics=
        callbacks.append(hydra.utils.instantiate(cfg.metrics))
    loggers: list[Logger] = instantiate_group(cfg.get("logger"))
    trainer = make_trainer(cfg, callbacks, loggers)

    config = OmegaConf.to_container(cfg, resolve=True)
    for logger in trainer.loggers:
        logger.log_hyperparams(config)

    trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))

    metrics = {name: value.item() for name, value in trainer.callback_metrics.items()}
    for checkpoint in trainer.checkpoint_callbacks:
        # a monitoring callback keeps the best checkpoint, a non-monitoring one the latest
        metrics["best_model_path" if checkpoint.monitor else "last_model_path"] = checkpoint.best_model_path
    return metrics
