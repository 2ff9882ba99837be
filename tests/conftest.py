"""Shared fixtures: composed configs that write only under pytest's temporary folders."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, open_dict

CONFIG_DIR = str(Path(__file__).resolve().parents[1] / "configs")


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")


def compose_train_config(overrides: list[str], output_dir: Path, config_name: str = "train") -> DictConfig:
    """configs/train.yaml (or `config_name`, e.g. eval) with `overrides`, writing under `output_dir`."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name, overrides=overrides)
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
        cfg.paths.log_dir = str(output_dir)
    return cfg


@pytest.fixture
def compose_config(tmp_path):
    def _compose(overrides: list[str]) -> DictConfig:
        return compose_train_config(overrides, tmp_path)

    return _compose


TINY_NETS = {
    "mlp": ["architecture.generator.hidden_dim=32", "architecture.discriminator.hidden_dim=32"],
    "dcgan": [
        "architecture.generator.features=8",
        "architecture.discriminator.features=8",
        "architecture.generator.latent_dim=16",
    ],
}


def tiny_overrides(architecture: str = "mlp", steps: int = 4) -> list[str]:
    """Small nets, few steps, no W&B: a run of seconds that exercises the whole loop."""
    return [
        f"architecture={architecture}",
        *TINY_NETS[architecture],
        f"trainer.max_steps={steps}",
        "trainer.accelerator=cpu",
        "trainer.val_check_interval=2",
        "+trainer.limit_val_batches=1",
        "+trainer.enable_progress_bar=false",
        "+trainer.enable_model_summary=false",
        "logger=csv",
        "~callbacks.progress_bar",
        "data.batch_size=16",
        "callbacks.last_checkpoint.every_n_train_steps=2",
    ]
