"""Shared fixtures: composed configs that write only under pytest's temporary folders, and the
classifiers the measures need, trained once per test run (the helpers are in tests/helpers.py)."""

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from filelock import FileLock
from omegaconf import DictConfig

from tests.helpers import CLASSIFIER_SAMPLES, compose_train_config


def pytest_configure(config: pytest.Config) -> None:
    """`make test` runs one pytest-xdist worker per core. Each computes with one thread, and so do the
    runs it starts (DDP processes, entry scripts): threads of two workers on one core displace each other."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ["OMP_NUM_THREADS"] = "1"
        torch.set_num_threads(1)


def trained_once(tmp_path_factory: pytest.TempPathFactory, name: str, train: Callable[[Path], object]) -> Path:
    """A cache folder that `train` fills, shared by the test run's workers: the first to arrive trains,
    the others wait and load (the caches are keyed by what they hold)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the run's folder under xdist
    folder = root / name
    with FileLock(str(root / f"{name}.lock")):
        folder.mkdir(exist_ok=True)
        train(folder)
    return folder


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

    return trained_once(
        tmp_path_factory,
        "shape-classifiers",
        lambda cache: TranslationJudge(32, str(cache), classifier_samples=CLASSIFIER_SAMPLES),
    )


@pytest.fixture(scope="session")
def digits_classifier(tmp_path_factory) -> Path:
    """A cache folder holding metrics=domain's classifier of the digits, trained once for the session."""
    from litgan.data import DigitsDataModule
    from litgan.metrics.domain_classifier import load_or_train

    return trained_once(tmp_path_factory, "digits-classifier", lambda cache: load_or_train(DigitsDataModule(), cache))
