"""src/train.py and src/eval.py as users run them, and the repository's own plumbing."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.helpers import tiny_overrides

ROOT = Path(__file__).resolve().parents[1]


def run(script: str, args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "WANDB_MODE": "offline"}
    result = subprocess.run(
        [sys.executable, script, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.mark.slow
def test_train_then_eval_from_the_command_line(tmp_path):
    run_dir = tmp_path / "train_run"
    overrides = [
        o
        for o in tiny_overrides(steps=6)
        if not o.startswith(("logger=", "~callbacks", "+trainer.enable_progress_bar"))
    ]
    trained = run("src/train.py", [f"hydra.run.dir={run_dir}", f"paths.log_dir={tmp_path}", *overrides])
    # warnings and lines that Lightning and W&B printed in every run, with nothing for users to do
    console = trained.stdout + trained.stderr
    for chatter in ("LeafSpec", "anonymous setting", "GPU available", "Tip:", "FLOPs", "Run history", "Run summary"):
        assert chatter not in console, chatter
    # offline, W&B's own lines give way to the run's: where the run is, how to see and upload it
    assert not [line for line in console.splitlines() if line.startswith("wandb:")]
    assert console.count("W&B run (offline):") == 2  # at the start and in the end-of-run table
    # what the run says instead: where the default model moved another group's setting, a line per
    # validation, and at the end each metric's best and last value, the checkpoints and W&B's run
    assert "model=wgan_gp_toy sets architecture.discriminator.norm=none" in console
    log = (run_dir / "train.log").read_text()
    for said in (
        "Validation at generator step 2: hq_fraction",
        "Validation at generator step 6: hq_fraction",
        "Training ended at generator step 6.",
        f"Checkpoint (last): {run_dir / 'checkpoints' / 'last.ckpt'}",
        "W&B run (offline):",
        "upload it: wandb sync",
    ):
        assert said in console and said in log, said
    table_rows = [line.split() for line in log.splitlines() if line.startswith("val/")]
    assert [row[0] for row in table_rows] == ["val/hq_fraction", "val/modes", "val/reverse_kl"]
    assert all(len(row) == 3 for row in table_rows)  # metric, best, last
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert list((run_dir / "samples").glob("samples_step*.png"))
    assert len(list((run_dir / "wandb").glob("offline-run-*"))) == 1
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)
    assert checkpoint["global_step"] == 6 and len(checkpoint["optimizer_states"]) == 2

    eval_dir = tmp_path / "eval_run"
    evaluated = run(
        "src/eval.py",
        [
            f"ckpt_path={run_dir / 'checkpoints' / 'last.ckpt'}",
            f"hydra.run.dir={eval_dir}",
            "num_samples=300",
        ],
    )
    report = json.loads((eval_dir / "metrics.json").read_text())
    assert report["generator_step"] == 6 and report["num_samples"] == 300
    assert set(report["metrics"]) == {"val/modes", "val/hq_fraction", "val/reverse_kl"}
    printed = evaluated.stdout + evaluated.stderr
    assert f"val/reverse_kl   {report['metrics']['val/reverse_kl']:.4g}" in printed  # eval.py's metrics table
    assert torch.load(eval_dir / "samples.pt").shape == (300, 2)
    assert (eval_dir / "samples.png").is_file()
    assert (run_dir / "train.log").is_file() and (eval_dir / "eval.log").is_file()
    assert not list(ROOT.glob("*.log")), "Hydra's job logs must stay inside the run folder"


def test_github_workflows_are_valid():
    if shutil.which("check-jsonschema") is None and not Path(sys.executable).with_name("check-jsonschema").exists():
        pytest.fail("check-jsonschema is a dev dependency; install with `pip install -e .[dev]`")
    exe = shutil.which("check-jsonschema") or str(Path(sys.executable).with_name("check-jsonschema"))
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows
    result = subprocess.run(
        [exe, "--builtin-schema", "vendor.github-workflows", *workflows],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_same_command_as_developers():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:40])
    assert "make train" in first_screen and "make test" in first_screen


def test_the_lint_tools_are_pinned_alike_in_the_hooks_and_the_dev_extra():
    import re

    import yaml

    pyproject = (ROOT / "pyproject.toml").read_text()
    dev = set(re.findall(r'^\s+"([\w-]+==[\w.]+)",', pyproject[pyproject.index("dev = [") :], flags=re.MULTILINE))
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"]
    in_hooks = {dep for repo in hooks for hook in repo["hooks"] for dep in hook.get("additional_dependencies", [])}
    assert {name.split("==")[0] for name in in_hooks} == {"ruff", "check-jsonschema"}
    assert in_hooks <= dev, f"pin {in_hooks - dev} in pyproject.toml's dev extra too, or change the hooks"
    workflow = (ROOT / ".github" / "workflows" / "tests.yml").read_text()
    assert "pre-commit run --all-files" in workflow and "pre-commit run --all-files" in (ROOT / "Makefile").read_text()
