"""Training: compose datamodule, model, callbacks and loggers from the config, fit, and return
the metrics (the one named `optimized_metric` is what Hydra sweepers minimise)."""

import json
import logging
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import hydra
import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from lightning import Callback, LightningDataModule, Trainer
from lightning.pytorch.accelerators import CPUAccelerator
from lightning.pytorch.loggers import Logger
from lightning.pytorch.strategies import DDPStrategy
from omegaconf import DictConfig, OmegaConf, open_dict

from litgan.loggers.wandb import WandbLogger, choose_wandb_mode, stored_wandb_id
from litgan.models.build import build_model, chosen_model_class
from litgan.utils.checkpoints import config_changes, read_checkpoint, run_config
from litgan.utils.config_checks import TRAIN_OPTIONS, check_config, require_available_device
from litgan.utils.config_sources import CONFIG_DIR, settings_from_other_groups
from litgan.utils.console import quiet_library_chatter
from litgan.utils.errors import ConfigError, reason_logged
from litgan.utils.files import AtomicCheckpointIO, atomic_write_text
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
    # checkpoints are written beside their final name and renamed into place, so that a kill
    # never leaves a half-written last.ckpt where the previous good one was
    options = dict(callbacks=callbacks, logger=loggers or False, plugins=[AtomicCheckpointIO()])
    trainer: Trainer = hydra.utils.instantiate(cfg.trainer, **options)
    if cfg.trainer.get("strategy", "auto") == "auto" and isinstance(trainer.strategy, DDPStrategy):
        # Lightning picks DDP without unused-parameter search for several devices, but each
        # backward pass of manual optimisation reaches only one of the two nets.
        trainer = hydra.utils.instantiate(cfg.trainer, **options, strategy="ddp_find_unused_parameters_true")
    return trainer


class Resumption(NamedTuple):
    """The checkpoint a run continues, and whether auto-resume chose it (rather than `ckpt_path`)."""

    path: str
    automatic: bool

    def __str__(self) -> str:
        if self.automatic:
            return f"auto_resume chose {self.path}, this run folder's last checkpoint from an earlier start"
        return f"ckpt_path={self.path}"


def checkpoint_to_resume(cfg: DictConfig) -> Resumption | None:
    """`ckpt_path`, or else this run folder's own last checkpoint: a job restarted in its folder
    (a SLURM requeue after preemption or timeout) continues where it stopped."""
    if cfg.get("ckpt_path"):
        return Resumption(cfg.ckpt_path, automatic=False)
    last = (
        Path(cfg.callbacks.last_checkpoint.dirpath) / "last.ckpt"
        if cfg.get("callbacks", {}).get("last_checkpoint")
        else None
    )
    if cfg.get("auto_resume") and last is not None and last.is_file():
        log.info("Resuming from %s, left by an earlier start of this job.", last)
        return Resumption(str(last), automatic=True)
    return None


def check_resumption(cfg: DictConfig, resumption: Resumption, checkpoint: dict[str, Any]) -> None:
    """Refuse to continue a checkpoint with another model, architecture, loss or data, unless
    `allow_resume_changes` says the changes are meant, and refuse changes the checkpoint's weights
    cannot follow, and a run that would have no step left to train."""
    fresh_start = " (or auto_resume=false, or another hydra.run.dir, to start afresh)" if resumption.automatic else ""
    changes = config_changes(run_config(checkpoint), cfg)
    reshaping = [str(change) for change in changes if change.reshapes_the_model]
    if reshaping:
        raise ConfigError(
            f"{resumption}, whose weights and optimiser state do not fit this run's model: {'; '.join(reshaping)}. "
            f"allow_resume_changes covers settings such as learning rates, not these: drop those overrides{fresh_start}."
        )
    if changes and not cfg.get("allow_resume_changes"):
        raise ConfigError(
            f"{resumption}, which was trained with another config than this run's: {'; '.join(map(str, changes))}. "
            "Resume with the checkpoint's settings (drop those overrides), or pass allow_resume_changes=true to "
            f"continue with the new ones{fresh_start}."
        )
    if changes:
        log.warning("Resuming %s with changed settings: %s", resumption.path, "; ".join(map(str, changes)))
    max_steps, step = cfg.trainer.get("max_steps", -1), checkpoint["global_step"]
    if 0 <= max_steps <= step:
        raise ConfigError(
            f"{resumption}, which has trained {step} generator steps, and trainer.max_steps={max_steps} leaves none to "
            f"train: raise trainer.max_steps above {step}{fresh_start}."
        )


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


def runs_on_gpus(accelerator: str | None) -> bool:
    return accelerator in ("gpu", "cuda") or accelerator in (None, "auto") and torch.cuda.is_available()


def train(cfg: DictConfig) -> dict[str, Any]:
    with reason_logged(log, "Training"):
        return fit(cfg)


def fit(cfg: DictConfig) -> dict[str, Any]:
    quiet_library_chatter()
    chosen_model_class(cfg)
    check_config(cfg, TRAIN_OPTIONS)
    require_available_device(
        "trainer.accelerator",
        cfg.trainer.get("accelerator"),
        "trainer=cpu, or trainer=ddp_cpu for DDP on CPU processes",
    )
    if cfg.trainer.get("sync_batchnorm") and not runs_on_gpus(cfg.trainer.get("accelerator")):
        raise ConfigError(
            "trainer.sync_batchnorm=true needs GPUs (torch's SyncBatchNorm runs on CUDA only): on CPU processes "
            "leave it false, and each process normalises its own share of the batch."
        )
    if HydraConfig.initialized():
        said = settings_from_other_groups(cfg, HydraConfig.get().runtime.choices, CONFIG_DIR)
        if said:
            log.info("Set by a config for another group: %s", "; ".join(said))
    L.seed_everything(cfg.seed, workers=True)
    if "wandb" in (cfg.get("logger") or {}):
        choose_wandb_mode()
    resumption = checkpoint_to_resume(cfg)
    checkpoint = read_checkpoint(resumption.path, mmap=True) if resumption else None  # mmap: the config only
    if checkpoint is not None:
        check_resumption(cfg, resumption, checkpoint)
    identify_wandb_run(cfg, run_config(checkpoint) if checkpoint is not None else None)
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
            trainer.fit(model, datamodule=datamodule, ckpt_path=resumption.path if resumption else None)
    except BaseException:
        for logger in trainer.loggers:  # a run that failed before fit: Lightning marks the others
            logger.finalize("failed")
        raise

    metrics = {name: value.item() for name, value in trainer.callback_metrics.items()}
    for checkpoint in trainer.checkpoint_callbacks:
        # a monitoring callback keeps the best checkpoint, a non-monitoring one the latest
        metrics["best_model_path" if checkpoint.monitor else "last_model_path"] = checkpoint.best_model_path
    if trainer.is_global_zero:  # what the run reached, for a sweep's summary and for scripts
        atomic_write_text(Path(cfg.paths.output_dir) / "metrics.json", json.dumps(metrics, indent=2))
    return metrics
