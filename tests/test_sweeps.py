"""Sweeps and launchers as users start them: Hydra's basic sweeper, Optuna, submitit, W&B Sweeps
files, DDP inside a sweep, and run folders that never collide."""

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from litgan.utils.resolvers import unique_dir
from tests.helpers import CONFIG_DIR, offline_runs, tiny_overrides

ROOT = Path(__file__).resolve().parents[1]
SWEEP_FILES = sorted((ROOT / "configs" / "wandb_sweeps").glob("*.yaml"))


def train_command(log_dir: Path, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}", "WANDB_MODE": "offline"}
    result = subprocess.run(
        [sys.executable, "src/train.py", *args, f"paths.log_dir={log_dir}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def sweep_overrides(steps: int = 4) -> list[str]:
    """Tiny runs, W&B on (the point of these tests), each job recording what every rank trains with."""
    return [
        *[o for o in tiny_overrides(steps=steps) if not o.startswith("logger=")],
        "logger=wandb",
        "+callbacks.record._target_=tests.helpers.RecordJobPerRank",
    ]


def the_sweep(log_dir: Path) -> Path:
    """The one sweep folder a multirun made; nothing else under logs/."""
    (sweep,) = (log_dir / "train" / "multiruns").iterdir()
    assert sorted(p.name for p in (log_dir / "train").iterdir()) == ["multiruns"], "stray run folders"
    return sweep


def rank_records(job_dir: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(job_dir.glob("job_rank*.json"))]


@pytest.mark.slow
def test_a_ddp_multirun_runs_each_job_once_with_its_own_folder_and_wandb_run(tmp_path):
    result = train_command(tmp_path, ["-m", "trainer=ddp_cpu", "seed=1,2", *sweep_overrides()])
    assert result.stdout.count("Launching 2 jobs locally") + result.stderr.count("Launching 2 jobs locally") == 1
    sweep = the_sweep(tmp_path)
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0", "1"]
    for job, seed in (("0", 1), ("1", 2)):
        records = rank_records(sweep / job)
        assert [(r["rank"], r["world_size"], r["seed"]) for r in records] == [(0, 2, seed), (1, 2, seed)]
        assert (sweep / job / "checkpoints" / "last.ckpt").is_file()
        (logged,) = offline_runs(sweep / job)  # rank 1 opened none
        assert logged.group == sweep.name and f"seed={seed}" in logged.name
        assert logged.config["seed"] == seed and logged.exit_code == 0
    # the sweep ends with its jobs, best first, on the console and in the sweep folder
    kl = {job: json.loads((sweep / job / "metrics.json").read_text())["val/reverse_kl"] for job in ("0", "1")}
    rows = [line.split() for line in (sweep / "summary.txt").read_text().splitlines()[2:]]
    assert [row[0] for row in rows] == sorted(kl, key=kl.get)
    assert [row[1] for row in rows] == [f"seed={1 + int(job)}" for job in sorted(kl, key=kl.get)]
    assert all(row[-1] == "finished" for row in rows)
    assert "The sweep's jobs, best first" in result.stdout + result.stderr


@pytest.mark.slow
def test_optuna_sweeps_with_ddp_and_every_rank_trains_the_sampled_hyperparameters(tmp_path):
    args = ["hparams_search=ring_optuna", "hydra.sweeper.n_trials=2", "trainer=ddp_cpu", *sweep_overrides()]
    result = train_command(tmp_path, args)
    assert "alembic" not in result.stdout + result.stderr  # Optuna's database set-up stays quiet
    sweep = the_sweep(tmp_path)
    assert len((sweep / "summary.txt").read_text().splitlines()) == 2 + 2  # header, rule, a row per trial
    results = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert results["name"] == "optuna" and isinstance(results["best_value"], float)
    ids = set()
    for job in ("0", "1"):
        overrides = yaml.safe_load((sweep / job / ".hydra" / "overrides.yaml").read_text())
        sampled_lr = float(next(o for o in overrides if o.startswith("model.optimizer_g.lr=")).split("=")[1])
        records = rank_records(sweep / job)
        assert len(records) == 2 and all(r["lr_g"] == pytest.approx(sampled_lr) for r in records)
        (logged,) = offline_runs(sweep / job)
        ids.add(logged.id)
    assert len(ids) == 2


@pytest.mark.slow
def test_submitit_runs_a_sweep_with_a_folder_checkpoint_and_wandb_run_per_job(tmp_path):
    train_command(
        tmp_path,
        ["-m", "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5", "seed=1,2", *sweep_overrides()],
    )
    sweep = the_sweep(tmp_path)
    ids = set()
    for job in ("0", "1"):
        assert (sweep / job / "checkpoints" / "last.ckpt").is_file()
        (logged,) = offline_runs(sweep / job)
        assert logged.exit_code == 0 and logged.group == sweep.name
        ids.add(logged.id)
    assert len(ids) == 2


def compose_with_hydra(overrides: list[str]):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose("train", overrides=overrides, return_hydra_config=True)


def test_the_slurm_launcher_follows_the_trainer_and_the_environment(monkeypatch):
    monkeypatch.setenv("LITGAN_SLURM_PARTITION", "gpu")
    monkeypatch.setenv("LITGAN_SLURM_ACCOUNT", "lab")
    cfg = compose_with_hydra(["hydra/launcher=slurm", "trainer=ddp", "trainer.devices=4", "trainer.num_nodes=2"])
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert (launcher.tasks_per_node, launcher.gpus_per_node, launcher.nodes) == (4, 4, 2)
    assert (launcher.partition, launcher.account) == ("gpu", "lab")
    assert launcher.max_num_timeout > 0 and cfg.auto_resume  # requeued jobs continue from last.ckpt


def test_optuna_searches_in_the_direction_of_optimized_metric_mode():
    cfg = compose_with_hydra(["hparams_search=ring_optuna"])
    assert cfg.hydra.sweeper.direction == "minimize" and cfg.optimized_metric == "val/reverse_kl"
    assert cfg.hydra.sweeper.sampler.seed is not None
    cfg = compose_with_hydra(["hparams_search=ring_optuna", "optimized_metric=val/modes"])
    assert cfg.hydra.sweeper.direction == "maximize"  # the metric's own direction (utils/metric_names.py)
    cfg = compose_with_hydra(["hparams_search=ring_optuna", "optimized_metric=val/modes", "optimized_metric_mode=min"])
    assert cfg.hydra.sweeper.direction == "minimize"  # unless the config says otherwise
    digits = compose_with_hydra(["hparams_search=digits_optuna"])
    assert digits.optimized_metric == "val/fid_domain" and digits.metrics.feature_extractor == "domain"


def parameter_values(spec: dict) -> list:
    """Values a W&B sweep can hand to the agent for one parameter: its list, or its range's ends."""
    if "values" in spec:
        return spec["values"]
    if "value" in spec:
        return [spec["value"]]
    return [spec["min"], spec["max"]]


def agent_command(sweep: dict, parameters: dict) -> list[str]:
    """The command `wandb agent` runs: the sweep's `command` with its macros filled in."""
    command = []
    for part in sweep["command"]:
        if part == "${args_no_hyphens}":
            command += [f"{key}={value}" for key, value in parameters.items()]
        elif part == "${program}":
            command.append(sweep["program"])
        elif part not in ("${env}", "${interpreter}"):
            command.append(part)
    return command


@pytest.mark.parametrize("sweep_file", SWEEP_FILES, ids=lambda p: p.stem)
def test_every_wandb_sweep_parameter_composes_and_the_metric_is_the_runs_optimized_metric(sweep_file):
    sweep = yaml.safe_load(sweep_file.read_text())
    assert sweep["program"] == "src/train.py" and "${args_no_hyphens}" in sweep["command"]
    fixed = agent_command(sweep, {})[2:]  # after `python src/train.py`
    for name, spec in sweep["parameters"].items():
        for value in parameter_values(spec):
            cfg = compose_with_hydra([*fixed, f"{name}={value}"])
    assert cfg.optimized_metric == sweep["metric"]["name"]
    assert sweep["metric"]["goal"] == {"min": "minimize", "max": "maximize"}[cfg.optimized_metric_mode]


@pytest.mark.slow
def test_a_run_with_one_wandb_sweep_parameter_set_trains(tmp_path):
    sweep = yaml.safe_load((ROOT / "configs" / "wandb_sweeps" / "ring_wgan_gp.yaml").read_text())
    parameters = {name: parameter_values(spec)[0] for name, spec in sweep["parameters"].items()}
    command = agent_command(sweep, parameters)
    assert command[:2] == ["python", "src/train.py"]
    train_command(tmp_path, [*command[2:], *sweep_overrides(steps=2)])
    (job,) = (tmp_path / "train" / "runs").iterdir()
    assert (job / "checkpoints" / "last.ckpt").is_file()


def test_unknown_sweepers_launchers_and_sweep_keys_are_refused_in_one_sentence():
    from hydra.errors import ConfigCompositionException, MissingConfigException

    with pytest.raises(MissingConfigException, match=r"Could not find 'hydra/sweeper/nevergrad_typo'") as error:
        compose_with_hydra(["hydra/sweeper=nevergrad_typo"])
    assert "Available options in 'hydra/sweeper'" in str(error.value) and "optuna" in str(error.value)
    with pytest.raises(MissingConfigException, match=r"Could not find 'hydra/launcher/slurmm'"):
        compose_with_hydra(["hydra/launcher=slurmm"])
    with pytest.raises(ConfigCompositionException, match=r"Could not override 'model.no_such_key'"):
        compose_with_hydra(["model.no_such_key=1"])


def _claim(base: str, queue) -> None:
    queue.put(unique_dir(base))


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path):
    base = str(tmp_path / "runs" / "2026-01-01_00-00-00")
    queue = multiprocessing.get_context("spawn").Queue()
    processes = [multiprocessing.get_context("spawn").Process(target=_claim, args=(base, queue)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    claimed = sorted(queue.get(timeout=5) for _ in processes)
    assert claimed == sorted([base, f"{base}-1", f"{base}-2", f"{base}-3"])
    cfg = compose_with_hydra([f"paths.log_dir={tmp_path}"])
    assert Path(cfg.hydra.run.dir).name.startswith("20")  # readable, time first
