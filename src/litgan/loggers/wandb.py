"""Lightning's W&B logger, made to hold up in sweeps, restarts and resumed runs."""

import logging
import netrc
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import wandb
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger as LightningWandbLogger
from lightning.pytorch.loggers.logger import rank_zero_experiment
from lightning.pytorch.utilities import rank_zero_only, rank_zero_warn

from litgan.utils.errors import ConfigError

log = logging.getLogger(__name__)


def has_wandb_credentials() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc(Path.home() / ".netrc").authenticators("api.wandb.ai") is not None
    except (FileNotFoundError, netrc.NetrcParseError):
        return False


def wandb_server(timeout: float = 3.0) -> tuple[str, bool]:
    """The W&B server's address (WANDB_BASE_URL or W&B's default), and whether a connection to it
    opens within `timeout` seconds."""
    url = urlparse(wandb.env.get_base_url(default=wandb.Settings().base_url))
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout).close()
        return url.netloc, True
    except OSError:
        return url.netloc, False


def choose_wandb_mode() -> str:
    """Respect an explicit WANDB_MODE; otherwise online with credentials and a server that answers,
    offline otherwise, so that a run never waits on a network that is not there (README, "Offline by design").
    WANDB_MODE=online without credentials or a server that answers is refused at once: W&B itself
    would fail, after a wait of minutes without a network."""
    if os.environ.get("WANDB_MODE") == "online":
        if not has_wandb_credentials():
            raise ConfigError(
                "WANDB_MODE=online, but no W&B API key is set: run `wandb login` (or set WANDB_API_KEY), or use "
                "WANDB_MODE=offline and `wandb sync` the run later."
            )
        address, reachable = wandb_server()
        if not reachable:
            raise ConfigError(
                f"WANDB_MODE=online, but the W&B server {address} cannot be reached from this machine: use "
                "WANDB_MODE=offline (or leave WANDB_MODE unset) and `wandb sync` the run later."
            )
    if "WANDB_MODE" not in os.environ:
        mode = "offline"
        if has_wandb_credentials():
            address, reachable = wandb_server()
            if reachable:
                mode = "online"
            else:
                log.warning(
                    f"W&B credentials are set but {address} cannot be reached: logging offline; "
                    "`wandb sync <run folder>/wandb/offline-run-*` uploads the run later."
                )
        os.environ["WANDB_MODE"] = mode
    return os.environ["WANDB_MODE"]


class WandbLogger(LightningWandbLogger):
    """One W&B run per training job:

    - W&B's own step is Lightning's logging step (`trainer/global_step`, counting generator
      steps), so a run resumed from a checkpoint continues its history after the checkpoint's
      step: W&B drops rows whose step is below the last one, where Lightning's logger would
      append them again. Values logged without a step (sample images) join the last row.
    - The run is finished when training ends (marked failed when it ends on an error), so
      the next job of a multirun, or the next `train()` in a notebook, opens a run of its own.
    - The summary holds the last value of every series, so the last (`val/x`) and the best
      (`val/x_best`, logged by the model) value of every `val/*` metric, and the path of the best
      checkpoint.
    - An id that W&B refuses to resume starts a new run that records the old id in its config.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Lightning always passes `anonymous` (None by default), and every W&B release since the
        # setting stopped working prints a warning for it, whatever its value, in every run
        self._wandb_init.pop("anonymous", None)
        # the run's own report says where the run is, how to see and upload it, and its values
        # (callbacks/report.py): offline, W&B has nothing else to say; online, its link and
        # warnings stay, without the history sparklines at the end
        offline = self._wandb_init.get("mode") == "offline" or os.environ.get("WANDB_MODE") in ("offline", "dryrun")
        self._wandb_init.setdefault("settings", wandb.Settings(silent=True) if offline else wandb.Settings(quiet=True))
        self._checkpoints: list[ModelCheckpoint] = []
        self._finished = False
        self._step = 0  # the last step logged

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        if self._experiment is None and self._id is not None:
            try:
                return super().experiment
            except wandb.Error as error:
                refused = self._id
                rank_zero_warn(
                    f"W&B run {refused!r} cannot be resumed ({error}); starting a new run whose config records "
                    f"resumed_from_wandb_id={refused}."
                )
                self._id = self._wandb_init["id"] = None
                self._wandb_init["config"] = {**self._wandb_init.get("config", {}), "resumed_from_wandb_id": refused}
        return super().experiment

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        if step is None:  # e.g. images: they join the row of the metrics logged last
            step = self._step
        self._step = max(self._step, step)
        self.experiment.log({**metrics, "trainer/global_step": step}, step=step)

    def after_save_checkpoint(self, checkpoint_callback: ModelCheckpoint) -> None:
        super().after_save_checkpoint(checkpoint_callback)
        if checkpoint_callback not in self._checkpoints:
            self._checkpoints.append(checkpoint_callback)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        if self._experiment is None or self._finished:
            return
        super().finalize(status)  # uploads the checkpoints as artifacts when log_model is set
        for checkpoint in self._checkpoints:
            if checkpoint.monitor and checkpoint.best_model_path:
                self._experiment.summary["best_model_path"] = checkpoint.best_model_path
        self._experiment.finish(exit_code=0 if status == "success" else 1)
        self._finished = True


def stored_wandb_id(run_config: dict[str, Any]) -> str | None:
    """The W&B run id in a checkpoint's run config (None for runs without W&B)."""
    return ((run_config.get("logger") or {}).get("wandb") or {}).get("id")
