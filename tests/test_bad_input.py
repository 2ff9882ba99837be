"""Bad input is answered in one sentence that names the key, file or value, before work is
wasted, and nothing saved before the error is lost."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from litgan.data.vision import ImageFolderDataModule
from litgan.evaluate import evaluate
from litgan.metrics.inception import InceptionFeatures, InvalidInceptionWeights
from litgan.train import train
from litgan.utils.checkpoints import CheckpointError
from litgan.utils.config_checks import ConfigError
from tests.conftest import compose_train_config, tiny_overrides

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ring_checkpoint(tmp_path_factory) -> Path:
    """A two-step GAN on the ring, trained once for the tests that resume or evaluate it."""
    run_dir = tmp_path_factory.mktemp("ring_gan")
    train(compose_train_config(["model=gan", *tiny_overrides(steps=2)], run_dir))
    return run_dir / "checkpoints" / "last.ckpt"


def compose_eval_config(overrides: list[str], output_dir: Path):
    return compose_train_config(overrides, output_dir, config_name="eval")


def write_images(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for index in range(count):
        paths.append(folder / f"{index:03d}.png")
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(paths[-1])
    return paths


@pytest.mark.parametrize(
    "override,sentence",
    [
        ("trainer.max_steps=abc", r"trainer\.max_steps='abc' is not of type int \(as Trainer declares\)"),
        ("data.batch_size=-4", r"data\.batch_size=-4 must be ≥ 1"),
        ("data.batch_size=0", r"data\.batch_size=0 must be ≥ 1"),
        ("model.n_critic=0", r"model\.n_critic=0 must be ≥ 1"),
        ("model.optimizer_d.lr=-0.001", r"model\.optimizer_d\.lr=-0\.001 must be > 0"),
        ("callbacks.sample_plots.num_samples=0", r"callbacks\.sample_plots\.num_samples=0 must be ≥ 1"),
        ("+data.batchsize=64", r"data\.batchsize is not a parameter of ToyDataModule"),
        ("optimized_metric_mode=maximum", r"optimized_metric_mode='maximum' is not one of 'min', 'max'"),
        ("seed=null", r"seed=None is not of type int; data\.seed=None"),
    ],
)
def test_config_values_are_checked_at_start_up(compose_config, tmp_path, override, sentence):
    with pytest.raises(ConfigError, match=sentence):
        train(compose_config([*tiny_overrides(), override]))
    assert not (tmp_path / "checkpoints").exists()


def test_every_bad_value_is_named_at_once(compose_config):
    with pytest.raises(ConfigError) as error:
        train(compose_config([*tiny_overrides(), "data.batch_size=0", "model.n_critic=0", "trainer.max_steps=abc"]))
    assert all(key in str(error.value) for key in ("data.batch_size=0", "model.n_critic=0", "trainer.max_steps"))


def test_a_gpu_trainer_on_a_machine_without_one_says_what_to_use(compose_config, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match=r"trainer\.accelerator=gpu, but .* no CUDA GPU .*use trainer=cpu"):
        train(compose_config([*tiny_overrides(), "trainer=gpu", "trainer.accelerator=gpu"]))


def test_a_failed_start_exits_non_zero_and_its_folder_holds_the_error(tmp_path):
    run_dir = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "src/train.py", f"hydra.run.dir={run_dir}", "trainer.max_steps=abc", "logger=csv"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "trainer.max_steps='abc' is not of type int" in result.stderr
    assert "trainer.max_steps='abc' is not of type int" in (run_dir / "train.log").read_text()


def test_unreadable_images_are_all_listed_before_training(tmp_path):
    files = write_images(tmp_path / "images", 12)
    files[3].write_bytes(b"not a png")
    files[7].write_bytes(files[7].read_bytes()[:60])  # truncated
    datamodule = ImageFolderDataModule(root=str(tmp_path / "images"), channels=3, image_size=16, num_workers=0)
    with pytest.raises(ValueError, match=r"2 of 1[01] images cannot be read") as error:
        datamodule.setup("fit")
    assert "003.png" in str(error.value) and "007.png" in str(error.value)


def test_too_few_images_for_one_step_say_what_batch_size_fits(compose_config, tmp_path):
    write_images(tmp_path / "images", 6)
    cfg = compose_config(
        [
            *tiny_overrides("dcgan"),
            "model=wgan_gp",
            "data=image_folder",
            f"data.root={tmp_path / 'images'}",
            "data.image_size=32",
            "data.batch_size=4",
            "data.num_workers=0",
        ]
    )
    with pytest.raises(
        ValueError, match=r"has 6 training images, .* 4 x 5 = 20 images: set data\.batch_size=1 or less"
    ):
        train(cfg)


def test_a_weights_file_of_random_bytes_is_named_as_not_inception_weights(tmp_path):
    weights = tmp_path / "weights.pth"
    weights.write_bytes(os.urandom(4096))
    with pytest.raises(InvalidInceptionWeights, match=rf"{weights} \(sha256 [0-9a-f]{{16}}...\) is not an InceptionV3"):
        InceptionFeatures(weights)


def test_resuming_with_another_model_or_architecture_names_the_differences(compose_config, ring_checkpoint):
    saved = ring_checkpoint.read_bytes()
    with pytest.raises(
        ConfigError,
        match=r"model\.n_critic: 1 -> 5;.*loss\._target_: litgan\.losses\.NonSaturatingLoss -> .*WassersteinLoss",
    ):
        train(compose_config([*tiny_overrides(), "model=wgan_gp", f"ckpt_path={ring_checkpoint}"]))
    with pytest.raises(ConfigError, match=r"architecture\.generator\.hidden_dim: 32 -> 64.*allow_resume_changes=true"):
        train(
            compose_config(
                [*tiny_overrides(), "model=gan", "architecture.generator.hidden_dim=64", f"ckpt_path={ring_checkpoint}"]
            )
        )
    assert ring_checkpoint.read_bytes() == saved


def test_resuming_with_changes_continues_when_asked(compose_config, ring_checkpoint, caplog):
    cfg = compose_config(
        [
            *tiny_overrides(steps=3),
            "model=gan",
            "model.optimizer_d.lr=1e-4",
            f"ckpt_path={ring_checkpoint}",
            "allow_resume_changes=true",
        ]
    )
    assert train(cfg)["train/g_step"] == 3.0
    assert "model.optimizer_d.lr: 0.0002 -> 0.0001" in caplog.text


def test_eval_names_what_is_wrong_with_ckpt_path(tmp_path, ring_checkpoint):
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match=rf"{text} is not a litgan checkpoint: PyTorch cannot read it"):
        evaluate(compose_eval_config([f"ckpt_path={text}"], tmp_path / "eval"))
    run_dir = ring_checkpoint.parents[1]
    with pytest.raises(
        CheckpointError, match=rf"{run_dir} is a directory: .* ckpt_path={run_dir}/checkpoints/last\.ckpt"
    ):
        evaluate(compose_eval_config([f"ckpt_path={run_dir}"], tmp_path / "eval"))
    with pytest.raises(CheckpointError, match=r"missing\.ckpt does not exist"):
        evaluate(compose_eval_config([f"ckpt_path={tmp_path / 'missing.ckpt'}"], tmp_path / "eval"))
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(CheckpointError, match="not written by litgan"):
        evaluate(compose_eval_config([f"ckpt_path={foreign}"], tmp_path / "eval"))


def test_eval_refuses_other_data_and_records_the_data_it_used(tmp_path, ring_checkpoint):
    with pytest.raises(ConfigError, match=r"trained on other data \(.*data\.distribution: ring -> grid\)"):
        evaluate(compose_eval_config([f"ckpt_path={ring_checkpoint}", "data=grid"], tmp_path / "refused"))
    report = evaluate(compose_eval_config([f"ckpt_path={ring_checkpoint}", "num_samples=50"], tmp_path / "eval"))
    assert report["data"]["distribution"] == "ring" and report["data"]["num_samples"] == 100000
    assert json.loads((tmp_path / "eval" / "metrics.json").read_text())["data"] == report["data"]


def test_eval_checks_its_options(tmp_path, ring_checkpoint):
    with pytest.raises(ConfigError, match=r"num_samples=0 must be ≥ 1"):
        evaluate(compose_eval_config([f"ckpt_path={ring_checkpoint}", "num_samples=0"], tmp_path / "eval"))


def test_image_metrics_on_points_are_refused_before_any_work(compose_config, tmp_path, ring_checkpoint):
    sentence = r"metrics= scores images, and ToyDataModule provides samples of shape \(2,\): leave out metrics="
    for metrics in ("domain", "inception"):  # before the classifier is trained, or the weights looked for
        with pytest.raises(ValueError, match=sentence):
            train(compose_config([*tiny_overrides(), f"metrics={metrics}"]))
        eval_dir = tmp_path / f"eval_{metrics}"
        with pytest.raises(ValueError, match=sentence):
            evaluate(compose_eval_config([f"ckpt_path={ring_checkpoint}", f"metrics={metrics}"], eval_dir))
        assert not (eval_dir / "samples.pt").exists()


def test_eval_refuses_a_checkpoint_and_a_folder_together(tmp_path, ring_checkpoint):
    overrides = [f"ckpt_path={ring_checkpoint}", f"images_dir={tmp_path}", "data=digits"]
    with pytest.raises(ValueError, match="ckpt_path= and images_dir= each name what to evaluate: give one of them"):
        evaluate(compose_eval_config(overrides, tmp_path / "eval"))
