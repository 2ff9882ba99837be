"""Real DDP: 2 CPU processes over gloo, started the way users start them (src/train.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from litgan.train import train
from tests.helpers import CLASSIFIER_SAMPLES, compose_train_config, stargan_overrides, tiny_overrides

ROOT = Path(__file__).resolve().parents[1]
STEPS, PER_RANK_BATCH = 6, 8
# In float32, StarGAN's tiny instance-normed test generator turns summation-order noise, which
# differs between 1 and 2 processes, into parameter differences of up to 5e-4 within six steps on
# some seeds (42 and 2, not 1; plain SGD as much as Adam). In float64 the runs agree to 1e-13, so
# a difference left there is a real one.
FLOAT64 = "trainer.precision=64-true"


def run_train(run_dir: Path, overrides: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}", "WANDB_MODE": "offline"}
    command = [
        sys.executable,
        "src/train.py",
        f"hydra.run.dir={run_dir}",
        f"paths.log_dir={run_dir.parent}",
        *overrides,
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.mark.slow
@pytest.mark.parametrize(
    "model_name,ddp,options",
    [
        ("wgan_gp", ["trainer=ddp_cpu"], []),
        # the default trainer, as `trainer.devices=4` on GPUs; the averaged generator of every process
        ("gan", ["trainer.devices=2"], ["model.ema_decay=0.9"]),
        # labels travel with their images; DiffAugment draws its transforms for the global batch
        ("cgan", ["trainer=ddp_cpu"], ["data=digits", "model.augment=[color,translation,cutout]"]),
        ("bigan", ["trainer=ddp_cpu"], []),  # the encoder trains with the generator
        # LeCam's anchors follow the global batch's mean scores; lazy R1 on the same updates everywhere
        ("gan", ["trainer=ddp_cpu"], ["model.r1_gamma=1.0", "model.r1_every=2", "model.lecam_weight=0.1"]),
        ("stargan", ["trainer=ddp_cpu"], []),  # target domains are drawn for the global batch
        # style mixing and noise maps drawn for the global batch, the minibatch deviation's groups
        # within each process's share, the path-length target from the lengths of all processes. In
        # float32, summation-order noise reaches 1e-4 in six steps (as StarGAN's, above); in float64
        # the runs agree to 1e-15.
        ("stylegan2", ["trainer=ddp_cpu"], ["data=digits", "model.r1_every=2", "model.path_length_every=2", FLOAT64]),
    ],
)
def test_two_processes_match_one_process_over_the_same_global_batches(tmp_path, model_name, ddp, options):
    if model_name == "stargan":
        overrides = [*stargan_overrides(STEPS), "~callbacks.translation_measures", FLOAT64]
    else:
        overrides = tiny_overrides("stylegan2" if model_name == "stylegan2" else "mlp", steps=STEPS)
    common = [
        f"model={model_name}",
        *options,
        *[o for o in overrides if not o.startswith(("data.batch_size", "logger="))],
        "logger=wandb",
        "+callbacks.save_parameters._target_=tests.helpers.SaveParametersPerRank",
    ]
    run_train(
        tmp_path / "ddp",
        [
            *common,
            *ddp,
            f"data.batch_size={PER_RANK_BATCH}",
            f"+callbacks.save_parameters.path={tmp_path / 'ddp_params'}",
        ],
    )
    single_process = [
        *common,
        "trainer=cpu",
        f"data.batch_size={2 * PER_RANK_BATCH}",
        f"+callbacks.save_parameters.path={tmp_path / 'single_params'}",
    ]
    train(compose_train_config(single_process, tmp_path / "single"))  # in this process: one start-up less

    rank0, rank1 = (torch.load(tmp_path / "ddp_params" / f"rank{r}.pt") for r in (0, 1))
    single = torch.load(tmp_path / "single_params" / "rank0.pt")
    assert rank0.keys() == single.keys() and any(k.startswith("generator") for k in rank0)
    averaged = "model.ema_decay=0.9" in options or model_name == "stylegan2"  # its preset samples from an EMA
    assert any(k.startswith("generator_ema.") for k in rank0) == averaged
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), f"{name} differs between ranks"
        torch.testing.assert_close(
            rank0[name], single[name], rtol=1e-4, atol=1e-5, msg=f"{name}: DDP != single process"
        )

    # one output folder (checkpoints, plots) and one W&B run for the DDP job
    run_dirs = [p for p in (tmp_path).iterdir() if p.name in ("ddp", "single")]
    assert len(run_dirs) == 2
    ddp_dir = tmp_path / "ddp"
    assert (ddp_dir / "checkpoints" / "last.ckpt").is_file()
    assert len(list((ddp_dir / "wandb").glob("offline-run-*"))) == 1
    assert list((ddp_dir / "samples").glob("*.png"))


@pytest.mark.parametrize("devices,expect_ddp", [(1, False), (2, True)])
def test_several_devices_get_ddp_that_tolerates_one_net_per_backward(compose_config, devices, expect_ddp):
    from lightning.pytorch.strategies import DDPStrategy

    from litgan.train import make_trainer

    cfg = compose_config(["trainer.accelerator=cpu", f"trainer.devices={devices}"])
    trainer = make_trainer(cfg, callbacks=[], loggers=[])
    assert isinstance(trainer.strategy, DDPStrategy) == expect_ddp
    if expect_ddp:
        # the strategy's DistributedDataParallel arguments
        assert trainer.strategy._ddp_kwargs.get("find_unused_parameters") is True


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "names"),
    [("wgan_gp", ["val/fid_domain"]), ("bigan", ["val/fid_domain", "val/reconstruction_class_accuracy"])],
)
def test_image_metrics_with_two_processes_equal_one_process(tmp_path, digits_classifier, model, names):
    """Each process generates its share of the samples (and encodes its share of the validation
    images) and adds its share of the reference features; after synchronisation the values equal
    the single-process ones."""
    import csv

    common = [
        f"model={model}",
        "data=digits",
        *[o for o in tiny_overrides("dcgan", steps=4) if not o.startswith("data.batch_size")],
        "metrics=domain",
        "metrics.num_samples=64",
        "metrics.batch_size=16",
        f"paths.cache_dir={digits_classifier}",
    ]

    def logged(run_dir: Path) -> list[list[float]]:
        rows = list(csv.DictReader(next(run_dir.glob("csv/**/metrics.csv")).open()))
        return [[float(r[name]) for name in names] for r in rows if r.get(names[0])]

    ddp_run = run_train(tmp_path / "ddp", [*common, "trainer=ddp_cpu", "data.batch_size=8"])
    # Lightning's advice for values not yet reduced, and its warning that a short epoch (17 steps
    # here) would not log every 50 steps, which it does
    assert "sync_dist=True" not in ddp_run.stderr and "smaller than the logging interval" not in ddp_run.stderr
    run_train(tmp_path / "single", [*common, "trainer=cpu", "data.batch_size=16"])
    ddp, single = logged(tmp_path / "ddp"), logged(tmp_path / "single")
    assert len(ddp) == len(single) == 2 and single[0][0] > 0
    for ddp_values, single_values in zip(ddp, single):
        # the weights agree to float rounding (gradients summed in another order); an untrained
        # generator's FID near 1,000 magnifies that to 1.5e-4 of its value
        assert ddp_values == pytest.approx(single_values, rel=1e-3)


@pytest.mark.slow
def test_cyclegan_trains_under_ddp_on_two_cpu_processes(tmp_path, shape_classifiers):
    from tests.helpers import cyclegan_overrides

    overrides = [o for o in cyclegan_overrides(steps=4) if not o.startswith("logger=")]
    run_train(tmp_path / "cyclegan", [*overrides, "trainer=ddp_cpu", "logger=csv", f"paths.cache_dir={shape_classifiers}",
                                       f"callbacks.translation_measures.classifier_samples={CLASSIFIER_SAMPLES}"])  # fmt: skip
    checkpoint = torch.load(tmp_path / "cyclegan" / "checkpoints" / "last.ckpt", weights_only=False)
    assert checkpoint["global_step"] == 4 and len(checkpoint["litgan"]["pools"]) == 2
