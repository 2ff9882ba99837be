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


# scenes per attribute classifier of the translation measures: 100% held out (600 gives 79% for shape)
CLASSIFIER_SAMPLES = 1000


@pytest.fixture(scope="session")
def shape_classifiers(tmp_path_factory) -> Path:
    """A cache folder holding the four attribute classifiers of the 32 px shapes tasks (CycleGAN's
    and StarGAN's translation measures), trained once for the session: pass it as paths.cache_dir
    with callbacks.translation_measures.classifier_samples=CLASSIFIER_SAMPLES."""
    from litgan.metrics.translation import TranslationJudge

    cache = tmp_path_factory.mktemp("shape-classifiers")
    TranslationJudge(32, str(cache), classifier_samples=CLASSIFIER_SAMPLES)
    return cache


@pytest.fixture(scope="session")
def digits_classifier(tmp_path_factory) -> Path:
    """A cache folder holding metrics=domain's classifier of the digits, trained once for the session."""
    from litgan.data import DigitsDataModule
    from litgan.metrics.domain_classifier import load_or_train

    cache = tmp_path_factory.mktemp("digits-classifier")
    load_or_train(DigitsDataModule(), cache)
    return cache
