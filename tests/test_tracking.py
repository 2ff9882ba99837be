"""What a W&B dashboard shows: one run per training job, resumed runs that continue, summaries,
artifacts, learning rates, the final checkpoint, the progress bar. Read from the files W&B
wrote offline, not from a mock."""

import socket
from pathlib import Path

import pytest
import torch
from omegaconf import open_dict

from litgan.train import train
from tests.helpers import compose_train_config, offline_runs, tiny_overrides


def wandb_overrides(steps: int, *extra: str) -> list[str]:
    return [
        *[o for o in tiny_overrides(steps=steps) if not o.startswith("logger=")],
        "logger=wandb",
        "trainer.log_every_n_steps=1",
        *extra,
    ]


def run(output_dir: Path, overrides: list[str]) -> dict:
    return train(compose_train_config(overrides, output_dir))


def test_every_train_call_in_one_process_gets_its_own_finished_run(tmp_path):
    run(tmp_path / "a", wandb_overrides(4, "seed=1", "tags=[first]"))
    run(tmp_path / "b", wandb_overrides(4, "seed=2", "logger.wandb.group=mine", "logger.wandb.name=second"))
    (a,), (b,) = offline_runs(tmp_path / "a"), offline_runs(tmp_path / "b")
    assert a.id != b.id
    assert a.config["seed"] == 1 and b.config["seed"] == 2
    assert a.tags == ["first"] and (b.group, b.name) == ("mine", "second")
    assert a.exit_code == 0 and b.exit_code == 0
    assert a.steps("train/g_loss") == [1, 2, 3, 4] == b.steps("train/g_loss")  # generator steps done


def test_a_failed_run_is_marked_failed_and_the_error_reaches_the_user(tmp_path):
    with pytest.raises(RuntimeError, match="planned failure at generator step 2"):
        run(tmp_path, wandb_overrides(6, "+callbacks.fail._target_=tests.helpers.FailAtStep", "+callbacks.fail.step=2"))
    (failed,) = offline_runs(tmp_path)
    assert failed.exit_code == 1
    run(tmp_path / "next", wandb_overrides(2))  # the next run in this process opens its own run
    (after,) = offline_runs(tmp_path / "next")
    assert after.id != failed.id and after.exit_code == 0


def test_resuming_continues_the_same_run_after_the_checkpoint_step(tmp_path):
    first = run(tmp_path / "first", wandb_overrides(6))
    second = run(tmp_path / "second", wandb_overrides(10, f"ckpt_path={first['last_model_path']}"))
    (part1,), (part2,) = offline_runs(tmp_path / "first"), offline_runs(tmp_path / "second")
    assert part1.id == part2.id
    steps1, steps2 = part1.steps("train/g_loss"), part2.steps("train/g_loss")
    assert steps1 == [1, 2, 3, 4, 5, 6] and steps2 == [7, 8, 9, 10]  # no step repeated, none going back
    assert [row["trainer/global_step"] for row in part2.history if "train/g_loss" in row] == steps2
    # the resumed part's checkpoints know the run too, so a second resume continues it again
    third = run(tmp_path / "third", wandb_overrides(12, f"ckpt_path={second['last_model_path']}"))
    (part3,) = offline_runs(tmp_path / "third")
    assert part3.id == part1.id
    assert part3.steps("train/g_loss") == [11, 12]
    assert third["last_model_path"].endswith("last.ckpt")


def test_an_explicit_wandb_id_wins_over_the_checkpoint(tmp_path):
    first = run(tmp_path / "first", wandb_overrides(2))
    run(tmp_path / "second", wandb_overrides(4, f"ckpt_path={first['last_model_path']}", "logger.wandb.id=chosen1"))
    assert offline_runs(tmp_path / "second")[0].id == "chosen1"


def test_a_run_that_cannot_be_resumed_starts_a_new_one_linked_to_the_old_id(tmp_path):
    first = run(tmp_path / "first", wandb_overrides(2))
    checkpoint = torch.load(first["last_model_path"], weights_only=False)
    checkpoint["hyper_parameters"]["run_config"]["logger"]["wandb"]["id"] = "gone/away"  # W&B refuses this id
    torch.save(checkpoint, tmp_path / "foreign.ckpt")
    with pytest.warns(UserWarning, match=r"W&B run 'gone/away' cannot be resumed .*starting a new run"):
        run(tmp_path / "second", wandb_overrides(4, f"ckpt_path={tmp_path / 'foreign.ckpt'}"))
    (new,) = offline_runs(tmp_path / "second")
    assert new.id != "gone/away" and new.config["resumed_from_wandb_id"] == "gone/away"
    assert new.steps("train/g_loss") == [3, 4]


def test_the_summary_holds_last_and_best_values_and_the_best_checkpoint(tmp_path):
    metrics = run(
        tmp_path, wandb_overrides(7, "trainer.val_check_interval=2", "callbacks.last_checkpoint.every_n_train_steps=5")
    )
    (logged,) = offline_runs(tmp_path)
    kls = [row["val/reverse_kl"] for row in logged.history if "val/reverse_kl" in row]
    modes = [row["val/modes"] for row in logged.history if "val/modes" in row]
    assert len(kls) == 3  # validations after generator steps 2, 4, 6
    assert logged.summary["val/reverse_kl"] == kls[-1] and logged.summary["val/reverse_kl_best"] == min(kls)
    assert logged.summary["val/modes_best"] == max(modes)
    assert logged.summary["best_model_path"] == metrics["best_model_path"]
    assert Path(metrics["best_model_path"]).is_file()
    # sample images sit in the row of their validation's metrics
    assert logged.steps("val/samples/_type") == logged.steps("val/reverse_kl")
    # learning rates are logged, and last.ckpt holds the final step although 7 is no multiple of 5
    assert all("lr/generator" in row and "lr/discriminator" in row for row in logged.history if "train/g_loss" in row)
    assert torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)["global_step"] == 7


def test_log_model_records_the_checkpoints_as_artifacts(tmp_path):
    run(tmp_path, wandb_overrides(4, "logger.wandb.log_model=true"))
    (logged,) = offline_runs(tmp_path)
    assert logged.artifacts and all(name.startswith("model-") for name in logged.artifacts)


def test_a_job_restarted_in_its_folder_resumes_from_its_last_checkpoint(tmp_path):
    """What a SLURM requeue does: the same job, the same folder, started again."""
    run(tmp_path, wandb_overrides(4))
    metrics = run(tmp_path, wandb_overrides(8))
    first, second = offline_runs(tmp_path)
    assert first.id == second.id and second.steps("train/g_loss") == [5, 6, 7, 8]
    assert metrics["train/g_step"] == 8
    cfg = compose_train_config(wandb_overrides(8, "auto_resume=false"), tmp_path / "fresh")
    with open_dict(cfg):
        cfg.callbacks.last_checkpoint.dirpath = str(tmp_path / "checkpoints")
    assert train(cfg)["train/g_step"] == 8  # started from scratch: 8 steps, not 0 more


def test_wandb_is_not_given_the_setting_it_warns_about_in_every_run(tmp_path):
    from litgan.loggers import WandbLogger

    assert "anonymous" not in WandbLogger(project="litgan", save_dir=str(tmp_path))._wandb_init


def test_credentials_without_a_server_that_answers_train_offline_at_once(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv("WANDB_MODE")
    monkeypatch.setenv("WANDB_API_KEY", "0" * 40)
    monkeypatch.setenv("WANDB_BASE_URL", "https://wandb.invalid")  # a name that never resolves (RFC 2606)
    run(tmp_path, wandb_overrides(2))
    (offline,) = offline_runs(tmp_path)
    assert offline.exit_code == 0
    assert "W&B credentials are set but wandb.invalid cannot be reached: logging offline" in caplog.text


def test_credentials_and_a_server_that_answers_choose_online(monkeypatch):
    from litgan.loggers.wandb import choose_wandb_mode

    monkeypatch.delenv("WANDB_MODE")
    monkeypatch.setenv("WANDB_API_KEY", "0" * 40)
    with socket.create_server(("127.0.0.1", 0)) as server:
        monkeypatch.setenv("WANDB_BASE_URL", f"http://127.0.0.1:{server.getsockname()[1]}")
        assert choose_wandb_mode() == "online"
