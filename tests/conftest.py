"""Shared fixtures: composed configs that write only under pytest's temporary folders, and the
classifiers the measures need, trained once per session (the helpers are in tests/helpers.py)."""

from pathlib import Path

import pytest
from omegaconf import DictConfig

from tests.helpers import CLASSIFIER_SAMPLES, compose_train_config


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")


@pytest.fixture
def compose_config(tmp_path):
    def _compose(overrides: list[str]) -> DictConfig:
        return compose_train_config(overrides, tmp_path)

    return _compose


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
