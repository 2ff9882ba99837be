"""Training: compose datamodule, model, callbacks and loggers from the config, fit, and return
the metrics (the one named `optimized_metric` is what Hydra sweepers minimise)."""

import logging
import warnings
from pathlib import Path
from typing import Any

import hydra
import lightning as L
from lightning import Callback, LightningDataModule, Trainer
from lightning.pytorch.accelerators import CPUAccelerator
from lightning.pytorch.loggers import Logger
from lightning.pytorch.strategies import DDPStrategy
from omegaconf import DictConfig, OmegaConf, open_dict

from litgan.loggers.wandb import WandbLogger, choose_wandb_mode, stored_wandb_id
from litgan.models.build import build_model
from litgan.utils.checkpoints import config_changes, read_checkpoint, run_config
from litgan.utils.config_checks import TRAIN_OPTIONS, ConfigError, check_config, require_gpu_if_asked
from litgan.utils.errors import reason_logged
from litgan.utils.hydra_job import ddp_processes_run_this_job, job_name, sweep_name
from litgan.utils.threads import use_cpu_threads

log = logging.getLogger(__name__)

# Lightning's manual-optimisation loop builds torch's LeafSpec, which newer torch deprecates: a
# warning in every run that only a Lightning release can act on
warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated", category=FutureWarning)
# Lightning counts log_every_n_steps over the whole run, not per epoch, so a short epoch (the
# digits' 4 generator steps) still logs every N steps; its warning that it would not is wrong here
warnings.filterwarnings(
    "ignore", message=r"The number of training batches \(\d+\) is smaller than the logging interval"
)


def instantiate_group(group: DictConfig | None) -> list[Any]:
    """Instantiate every `_target_` entry of a config group such as `callbacks` or `logger`."""
    return [hydra.utils.instantiate(entry) for entry in (group or {}).values() if entry and "_target_" in entry]


def make_trainer(cfg: DictConfig, callbacks: list[Callback], loggers: list[Logger]) -> Trainer:
    trainer: Trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    if cfg.trainer.get("strategy", "auto") == "auto" and isinstance(trainer.strategy, DDPStrategy):
        # Lightning picks DDP without unused-parameter search for several devices, but each
        # backward pass of manual optimisation reaches only one of the two nets.
        strategy = "ddp_find_unused_parameters_true"
        trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False, strategy=strategy)
    return trainer


def checkpoint_to_resume(cfg: DictConfig) -> str | None:
    """`ckpt_path`, or else this run folder's own last checkpoint: a job restarted in its folder
    (a SLURM requeue after preemption or timeout) continues where it stopped."""
    if cfg.get("ckpt_path"):
        return cfg.ckpt_path
    last = (
        Path(cfg.callbacks.last_checkpoint.dirpath) / "last.ckpt"
        if cfg.get("callbacks", {}).get("last_checkpoint")
        else None
    )
    if cfg.get("auto_resume") and last is not None and last.is_file():
        log.info("Resuming from %s, left by an earlier start of this job.", last)
        return str(last)
    return None


def check_resumed_config(cfg: DictConfig, ckpt_path: str, stored: dict[str, Any]) -> None:
    """Refuse to continue a checkpoint with another model, architecture, loss or data, unless
    `allow_resume_changes` says the changes are meant."""
    changes = config_changes(stored, cfg)
    if not changes:
        return
    if not cfg.get("allow_resume_changes"):
        raise ConfigError(
            f"{ckpt_path} was trained with another config than this run's: {'; '.join(changes)}. Resume with the "
            "checkpoint's settings (drop those overrides), or pass allow_resume_changes=true to continue with the new ones."
        )
    log.warning("Resuming %s with changed settings: %s", ckpt_path, "; ".join(changes))


def identify_wandb_run(cfg: DictConfig, stored: dict[str, Any] | None) -> None:
    """Fill in what the W&B config leaves open: the run id a resumed checkpoint was logged
    under (an explicit `logger.wandb.id` wins), the sweep as the group, the job's overrides as
    the name."""
    wandb_cfg = cfg.get("logger", {}).get("wandb")
    if not wandb_cfg:
        return
    with open_dict(wandb_cfg):
        if wandb_cfg.get("id") is None and stored is not None:
            wandb_cfg.id = stored_wandb_id(stored)
        wandb_cfg.group = wandb_cfg.get("group") or sweep_name()
        wandb_cfg.name = wandb_cfg.get("name") or job_name()


def train(cfg: DictConfig) -> dict[str, Any]:
    with reason_logged(log, "Training"):
        return fit(cfg)


def fit(cfg: DictConfig) -> dict[str, Any]:
    check_config(cfg, TRAIN_OPTIONS)
    require_gpu_if_asked(
        "trainer.accelerator",
        cfg.trainer.get("accelerator"),
        "trainer=cpu, or trainer=ddp_cpu for DDP on CPU processes",
    )
    L.seed_everything(cfg.seed, workers=True)
    if "wandb" in (cfg.get("logger") or {}):
        choose_wandb_mode()
    ckpt_path = checkpoint_to_resume(cfg)
    stored = run_config(read_checkpoint(ckpt_path, mmap=True)) if ckpt_path else None  # mmap: the config only
    if stored is not None:
        check_resumed_config(cfg, ckpt_path, stored)
    identify_wandb_run(cfg, stored)
    datamodule: LightningDataModule = hydra.utils.instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    callbacks: list[Callback] = instantiate_group(cfg.get("callbacks"))
    if cfg.get("metrics"):  # the image-quality metric callback chosen by metrics=
        callbacks.append(hydra.utils.instantiate(cfg.metrics))
    loggers: list[Logger] = instantiate_group(cfg.get("logger"))
    trainer = make_trainer(cfg, callbacks, loggers)
    if isinstance(trainer.accelerator, CPUAccelerator):
        use_cpu_threads(trainer.num_devices, cfg.get("cpu_threads"))

    config = OmegaConf.to_container(cfg, resolve=True)
    try:
        for logger in trainer.loggers:
            logger.log_hyperparams(config)  # starts the W&B run
            if isinstance(logger, WandbLogger) and logger.version:
                with open_dict(cfg):
                    cfg.logger.wandb.id = logger.version  # so that the checkpoints know their run
        # the checkpoint carries the config it was trained with, so eval.py can rebuild it anywhere
        model.save_hyperparameters({"run_config": OmegaConf.to_container(cfg, resolve=False)}, logger=False)
        with ddp_processes_run_this_job():
            trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
    except BaseException:
        for logger in trainer.loggers:  # a run that failed before fit: Lightning marks the others
            logger.finalize("failed")
        raise

    metrics = {name: value.item() for name, value in trainer.callback_metrics.items()}
    for checkpoint in trainer.checkpoint_callbacks:
        # a monitoring callback keeps the best checkpoint, a non-monitoring one the latest
        metrics["best_model_path" if checkpoint.monitor else "last_model_path"] = checkpoint.best_model_path
    return metrics
