"""Bad input is answered in one sentence that names the key, file or value, before work is
wasted, and nothing saved before the error is lost."""

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.errors import MissingConfigException
from lightning import Callback
from PIL import Image

from litgan.data import vision
from litgan.data.unpaired import UnpairedFolderDataModule
from litgan.data.vision import ImageFolderDataModule
from litgan.evaluate import evaluate
from litgan.loggers.wandb import choose_wandb_mode
from litgan.metrics.inception import InceptionFeatures, InvalidInceptionWeights
from litgan.train import train
from litgan.utils.checkpoints import CheckpointError
from litgan.utils.config_checks import ConfigError
from tests.helpers import compose_train_config, fit, run_script, tiny_overrides

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


def test_nets_the_model_cannot_use_are_refused_before_their_parameters_are_checked(compose_config):
    """The default model's preset sets architecture.discriminator.norm, which StyleGAN2's nets lack:
    the sentence is about the misfit, and names the model the nets are for."""
    with pytest.raises(ConfigError, match=r"GAN needs a generator that takes noise vectors.*model=stylegan2\.$"):
        train(compose_config(["architecture=stylegan2", "trainer.max_steps=2"]))


def test_every_bad_value_is_named_at_once(compose_config):
    with pytest.raises(ConfigError) as error:
        train(compose_config([*tiny_overrides(), "data.batch_size=0", "model.n_critic=0", "trainer.max_steps=abc"]))
    assert all(key in str(error.value) for key in ("data.batch_size=0", "model.n_critic=0", "trainer.max_steps"))


def test_a_gpu_trainer_on_a_machine_without_one_says_what_to_use(compose_config, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match=r"trainer\.accelerator=gpu, but .* no CUDA GPU .*use trainer=cpu"):
        train(compose_config([*tiny_overrides(), "trainer=gpu", "trainer.accelerator=gpu"]))


@pytest.mark.slow
def test_a_failed_start_is_one_sentence_exit_1_and_its_folder_holds_the_error(tmp_path):
    run_dir = tmp_path / "run"
    code, output = run_script("src/train.py", [f"hydra.run.dir={run_dir}", "trainer.max_steps=abc", "logger=csv"])
    assert code == 1
    assert "trainer.max_steps='abc' is not of type int" in output and "Traceback" not in output
    assert f"The run's log: {run_dir / 'train.log'}" in output
    assert "trainer.max_steps='abc' is not of type int" in (run_dir / "train.log").read_text()
    # HYDRA_FULL_ERROR=1 shows where it was raised, as for every Hydra program
    code, output = run_script(
        "src/train.py", [f"hydra.run.dir={tmp_path / 'full'}", "trainer.max_steps=abc"], HYDRA_FULL_ERROR="1"
    )
    assert code == 1 and "Traceback" in output and "ConfigError: Invalid config: trainer.max_steps='abc'" in output


@pytest.mark.parametrize(
    "group,option", [("experiment", "ring_bset"), ("debug", "fdrr"), ("hparams_search", "ring_optun")]
)
def test_a_misspelt_preset_is_refused_with_the_presets_there_are(compose_config, group, option):
    """Hydra prints this message, without a traceback, and exits 1 (the groups are not `optional`,
    which would skip a name it cannot find)."""
    with pytest.raises(MissingConfigException, match=rf"Could not find '{group}/{option}'"):
        compose_config([f"{group}={option}"])


def test_unreadable_images_are_all_listed_before_training(tmp_path):
    files = write_images(tmp_path / "images", 12)
    files[3].write_bytes(b"not a png")
    files[7].write_bytes(files[7].read_bytes()[:60])  # truncated
    datamodule = ImageFolderDataModule(root=str(tmp_path / "images"), channels=3, image_size=16, num_workers=0)
    with pytest.raises(ValueError, match=r"2 of 12 images cannot be read") as error:
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
            "data.val_every=3",
        ]
    )
    with pytest.raises(ValueError, match=r"has 4 training images, .* 4 x 5 = 20 images: add images"):
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
        match=r"another config than this run's: model\.n_critic: 1 -> 5; loss\._target_: litgan\.losses\.NonSaturatingLoss "
        r"-> litgan\.losses\.WassersteinLoss\. .* or pass allow_resume_changes=true",
    ):
        train(
            compose_config(
                [*tiny_overrides(), "model=gan", "model.n_critic=5", "loss=wasserstein", f"ckpt_path={ring_checkpoint}"]
            )
        )
    with pytest.raises(
        ConfigError, match=r"do not fit this run's model: architecture\.discriminator\.norm: none -> layer"
    ):
        train(compose_config([*tiny_overrides(), "model=wgan_gp", f"ckpt_path={ring_checkpoint}"]))
    reshaped = [*tiny_overrides(), "model=gan", "architecture.generator.hidden_dim=64", f"ckpt_path={ring_checkpoint}"]
    for allowed in ("false", "true"):  # weights of another shape cannot be continued, even when asked
        with pytest.raises(
            ConfigError, match=r"do not fit this run's model: architecture\.generator\.hidden_dim: 32 -> 64"
        ):
            train(compose_config([*reshaped, f"allow_resume_changes={allowed}"]))
    # LeCam's anchors are state of the model: adding them cannot continue a checkpoint without them
    with pytest.raises(ConfigError, match=r"do not fit this run's model: model\.lecam_weight: 0\.0 -> 0\.1"):
        train(compose_config([*reshaped[:-2], "model.lecam_weight=0.1", reshaped[-1], "allow_resume_changes=true"]))
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


@pytest.mark.parametrize(
    "override,sentence",
    [
        ("+max_steps=10", r"max_steps is not an option of this program \(did you mean trainer\.max_steps\?\)"),
        ("data.batch_size=64.0", r"data\.batch_size=64\.0 is not of type int"),
        ("seed=-1", r"seed=-1 must be ≥ 0 and < 4,294,967,296"),
        ("model.ema_decay=1.5", r"model\.ema_decay=1\.5 must be > 0 and < 1"),
        ("trainer.precision=8", r"trainer\.precision=8 is not one of 64, 32, 16, .*'bf16-mixed'"),
        ("cpu_threads=0", r"cpu_threads=0 must be ≥ 1"),
        (
            "trainer.accelerator=tpu",
            r"trainer\.accelerator=tpu, but PyTorch finds no TPU on this machine: use trainer=cpu",
        ),
        ("trainer.accelerator=banana", r"trainer\.accelerator=banana is not a device PyTorch Lightning knows"),
        ("trainer.sync_batchnorm=true", r"trainer\.sync_batchnorm=true needs GPUs"),
    ],
)
def test_values_that_would_fail_mid_run_are_refused_at_start_up(compose_config, tmp_path, override, sentence):
    with pytest.raises(ConfigError, match=sentence):
        train(compose_config([*tiny_overrides(), override]))
    assert not (tmp_path / "checkpoints").exists()


def test_an_optimized_metric_nothing_logs_is_named_with_those_that_are(compose_config, tmp_path):
    with pytest.raises(
        ConfigError,
        match=r"optimized_metric=val/fid is not logged by this run's validation, which logs val/hq_fraction, "
        r"val/modes, val/reverse_kl: set optimized_metric to one of them, or to null",
    ):
        train(compose_config([*tiny_overrides(), "optimized_metric=val/fid"]))


def test_eval_refuses_keys_and_devices_it_does_not_have(tmp_path, ring_checkpoint):
    with pytest.raises(ConfigError, match=r"model is not an option of this program"):
        evaluate(compose_eval_config([f"ckpt_path={ring_checkpoint}", "+model.ema_decay=0.9"], tmp_path / "eval"))
    with pytest.raises(ConfigError, match=r"device=banana is not a device PyTorch Lightning knows"):
        evaluate(compose_eval_config([f"ckpt_path={ring_checkpoint}", "device=banana"], tmp_path / "eval"))


def test_eval_refuses_more_samples_than_fit_with_the_estimate(tmp_path, ring_checkpoint):
    with pytest.raises(
        ConfigError,
        match=r"num_samples=1,000,000,000,000 would take 7,450\.6 GiB of samples, .* ask for [\d,]+ or fewer",
    ):
        evaluate(compose_eval_config([f"ckpt_path={ring_checkpoint}", "num_samples=1000000000000"], tmp_path / "eval"))
    assert not (tmp_path / "eval" / "samples.pt").exists()


def test_eval_of_a_folder_with_nothing_to_measure_is_refused(tmp_path):
    write_images(tmp_path / "images", 4)
    with pytest.raises(
        ConfigError,
        match=r"would be measured by nothing: a folder of images is scored by metrics=, so add metrics=domain",
    ):
        evaluate(compose_eval_config([f"images_dir={tmp_path / 'images'}", "data=digits"], tmp_path / "eval"))


def test_a_resumed_run_trains_with_the_optimizer_settings_it_is_given(compose_config, ring_checkpoint):
    class LearningRates(Callback):
        def on_train_batch_end(self, trainer, *args):
            self.rates = [optimizer.param_groups[0]["lr"] for optimizer in trainer.optimizers]

    rates = LearningRates()
    overrides = [*tiny_overrides(steps=3), "model=gan", "model.optimizer_g.lr=1e-5", "allow_resume_changes=true"]
    fit(compose_config(overrides), [rates], ckpt_path=str(ring_checkpoint), max_steps=3)
    assert rates.rates == [1e-5, 2e-4]


def test_a_resumed_run_with_no_step_left_is_refused(compose_config, ring_checkpoint):
    with pytest.raises(
        ConfigError, match=r"has trained 2 generator steps, and trainer\.max_steps=2 leaves none to train"
    ):
        train(compose_config([*tiny_overrides(steps=2), "model=gan", f"ckpt_path={ring_checkpoint}"]))


def test_auto_resume_says_it_chose_the_checkpoint(compose_config, tmp_path, ring_checkpoint):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.ckpt").write_bytes(ring_checkpoint.read_bytes())
    with pytest.raises(
        ConfigError,
        match=r"auto_resume chose .*last\.ckpt, this run folder's last checkpoint from an earlier start, which was "
        r"trained with another config .*model\.n_critic: 1 -> 5.*\(or auto_resume=false, or another hydra\.run\.dir",
    ):
        train(compose_config([*tiny_overrides(steps=4), "model=gan", "model.n_critic=5"]))


def test_a_truncated_checkpoint_is_named_as_such(tmp_path, ring_checkpoint):
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes(ring_checkpoint.read_bytes()[:5000])
    with pytest.raises(
        CheckpointError, match=rf"{cut} is truncated or incomplete \(a save or copy that did not finish\)"
    ):
        evaluate(compose_eval_config([f"ckpt_path={cut}"], tmp_path / "eval"))


def test_wide_images_are_scaled_by_their_range(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    ramp = np.linspace(0, 1, 32 * 32).reshape(32, 32)
    for index in range(4):
        Image.fromarray((ramp * 65535).astype(np.uint16)).save(folder / f"{index}a.png")  # 16-bit grey
        Image.fromarray(ramp.astype(np.float32), mode="F").save(folder / f"{index}b.tiff")  # float
    datamodule = ImageFolderDataModule(root=str(folder), channels=1, image_size=32, val_every=4, num_workers=0)
    datamodule.setup("fit")
    for (image,) in datamodule.train_set:
        assert image.min() == -1 and image.max() == 1 and abs(image.mean()) < 0.01  # the ramp, not white or black
    Image.fromarray(np.full((8, 8), 5.0, dtype=np.float32), mode="F").save(folder / "bright.tiff")
    with pytest.raises(ValueError, match=r"bright\.tiff \(mode F\) has values from 5 to 5, outside the range \[0, 1\]"):
        ImageFolderDataModule(root=str(folder), channels=1, image_size=32, val_every=4, num_workers=0).setup("fit")


def test_a_truncated_jpeg_is_refused_at_start_up_and_each_image_is_decoded_once(tmp_path, monkeypatch):
    folder = tmp_path / "images"
    write_images(folder, 11)
    Image.fromarray(np.zeros((64, 64, 3), dtype=np.uint8)).save(folder / "cut.jpg")
    (folder / "cut.jpg").write_bytes((folder / "cut.jpg").read_bytes()[:-200])  # opens and verifies, fails to decode
    options = dict(root=str(folder), image_size=16, num_workers=0, cache_dir=str(tmp_path / "cache"))
    with pytest.raises(ValueError, match=r"1 of 12 images cannot be read; remove or replace them: .*cut\.jpg"):
        ImageFolderDataModule(**options).setup("fit")
    (folder / "cut.jpg").unlink()

    decoded = []
    real_decode = vision.decode_error
    monkeypatch.setattr(
        vision, "decode_error", lambda path: decoded.append(os.path.basename(path)) or real_decode(path)
    )
    ImageFolderDataModule(**options).setup("fit")
    assert decoded == [], "the images that passed are remembered"
    write_images(folder / "more", 1)
    ImageFolderDataModule(**options).setup("fit")
    assert decoded == ["000.png"], "only a new or changed file is decoded"


@pytest.mark.parametrize(
    "override,sentence",
    [
        ("data.val_every=1", r"data\.val_every=1 must be ≥ 2"),
        ("data.channels=2", r"data\.channels=2 is not one of 1, 3"),
    ],
)
def test_image_folder_options_that_make_no_split_are_refused(compose_config, tmp_path, override, sentence):
    write_images(tmp_path / "images", 20)
    overrides = [
        *tiny_overrides("dcgan"),
        "data=image_folder",
        f"data.root={tmp_path / 'images'}",
        "data.image_size=32",
    ]
    with pytest.raises(ConfigError, match=sentence):
        train(compose_config([*overrides, override]))


def test_a_folder_too_small_to_hold_out_an_image_is_refused(tmp_path):
    write_images(tmp_path / "images", 1)
    with pytest.raises(
        ValueError, match=r"holds 1 images, and every data\.val_every=10-th is held out .* none would be"
    ):
        ImageFolderDataModule(root=str(tmp_path / "images"), image_size=16, num_workers=0).setup("fit")


def test_an_unpaired_folder_without_a_domain_names_the_layout(tmp_path):
    write_images(tmp_path / "unpaired" / "trainA", 2)
    with pytest.raises(
        FileNotFoundError, match=r"data\.root=.*unpaired has no trainB folder: .* root/trainA, root/trainB, root/testA"
    ):
        UnpairedFolderDataModule(root=str(tmp_path / "unpaired"), image_size=16, num_workers=0).setup("fit")


def test_wandb_online_without_a_key_or_a_server_says_what_to_do_at_once(monkeypatch, tmp_path):
    monkeypatch.setenv("WANDB_MODE", "online")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
    with pytest.raises(ConfigError, match=r"WANDB_MODE=online, but no W&B API key is set: run `wandb login`"):
        choose_wandb_mode()
    monkeypatch.setenv("WANDB_API_KEY", "0" * 40)
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    started = time.monotonic()
    with pytest.raises(ConfigError, match=r"the W&B server 127\.0\.0\.1:9 cannot be reached .* WANDB_MODE=offline"):
        choose_wandb_mode()
    assert time.monotonic() - started < 5
