"""Faults a run meets (signals, kills mid-save, full disks, a folder taken by another run, sweeps
whose jobs fail) end in one sentence and the right exit status, and lose nothing saved."""

import errno
import os
import signal
import time

import pytest
import torch

from litgan.callbacks import LastCheckpoint
from litgan.utils.errors import Interrupted, StorageError, reason_logged
from litgan.utils.files import RunFolderLock, atomic_save, atomic_write
from tests.helpers import SignalAtStep, fit, run_script, start_script, tiny_overrides

# what every run below trains: small nets on the ring, no W&B, checkpoints every 2 steps
QUICK = tiny_overrides(steps=4)


def test_a_checkpoint_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    target = tmp_path / "last.ckpt"
    atomic_save({"step": 1}, target)
    # a temporary folder on another filesystem, or none at all, plays no part
    monkeypatch.setenv("TMPDIR", str(tmp_path / "absent"))

    def killed_halfway(file):
        file.write(b"PK\x03\x04 half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        atomic_write(target, killed_halfway)
    assert torch.load(target) == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"], "no half-written file is left behind"
    atomic_save({"step": 2}, target)
    assert torch.load(target) == {"step": 2}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_saves_the_step_it_stops_after_and_the_run_resumes_exactly(compose_config, tmp_path, signum):
    cfg = compose_config(["model=wgan_gp", *tiny_overrides(steps=6)])
    _, straight = fit(cfg, max_steps=6)

    last = LastCheckpoint(dirpath=tmp_path / "checkpoints", filename="last", every_n_train_steps=100)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}  # pytest-xdist's workers ignore SIGINT
    with pytest.raises(Interrupted) as stop:
        fit(cfg, [SignalAtStep(3, signum), last], max_steps=6, enable_checkpointing=True)
    assert (stop.value.signum, stop.value.step) == (signum, 3)
    assert stop.value.checkpoint == (tmp_path / "checkpoints" / "last.ckpt").resolve()
    assert torch.load(stop.value.checkpoint, weights_only=False)["global_step"] == 3
    assert {s: signal.getsignal(s) for s in handlers} == handlers, "the handlers are given back"

    _, resumed = fit(cfg, ckpt_path=str(stop.value.checkpoint), max_steps=6)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)


@pytest.mark.slow
def test_sigterm_exits_143_with_the_resume_command_and_a_requeued_job_resumes(tmp_path):
    run_dir = tmp_path / "run"
    last = run_dir / "checkpoints" / "last.ckpt"
    args = [f"hydra.run.dir={run_dir}", *QUICK, "trainer.max_steps=100000"]
    process = start_script("src/train.py", args)
    deadline = time.monotonic() + 120
    while not last.exists() and time.monotonic() < deadline:
        time.sleep(0.1)  # training has started: its first periodic checkpoint is there
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 143, output[-2000:]
    step = torch.load(last, weights_only=False)["global_step"]
    assert f"Stopped by SIGTERM at generator step {step}; saved {last}. Resume with: python src/train.py" in output
    assert f"trainer.max_steps=100000 ckpt_path={last}" in output and "Traceback" not in output

    # the job, started again in its folder (a SLURM requeue), continues from that step
    code, output = run_script("src/train.py", [*args[:-1], f"trainer.max_steps={step + 2}"])
    assert code == 0, output[-2000:]
    assert f"Resuming from {last}" in output
    assert torch.load(last, weights_only=False)["global_step"] == step + 2


@pytest.mark.slow
def test_a_second_run_in_a_live_run_folder_is_refused(tmp_path):
    run_dir = tmp_path / "run"
    live = RunFolderLock(run_dir)  # a run that is still going, as Hydra's callback holds it
    (run_dir / ".hydra").mkdir()
    (run_dir / ".hydra" / "config.yaml").write_text("the live run's config")
    try:
        code, output = run_script("src/train.py", [f"hydra.run.dir={run_dir}", *QUICK])
        assert code == 1, output[-2000:]
        assert f"{run_dir} is the folder of a run that is still going (pid {os.getpid()} on" in output
        assert "Traceback" not in output
        assert (run_dir / ".hydra" / "config.yaml").read_text() == "the live run's config"
    finally:
        live.release()
    RunFolderLock(run_dir).release()  # free again once the run ends (a killed one: the kernel frees flock)


def test_a_full_disk_is_one_sentence_and_the_saved_files_stay_whole(tmp_path, caplog):
    picture = tmp_path / "samples.png"
    atomic_write(picture, lambda file: file.write(b"an earlier picture"))

    def disk_full(file):
        file.write(b"\x89PNG")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(StorageError, match=r"^The disk is full: free some space, or write the runs elsewhere"):
        with reason_logged(__import__("logging").getLogger("test"), "Training"):
            atomic_write(picture, disk_full)
    assert picture.read_bytes() == b"an earlier picture"
    assert "Training stopped: The disk is full" in caplog.text


@pytest.mark.slow
def test_a_run_folder_that_is_a_file_is_named(tmp_path):
    taken = tmp_path / "notes"
    taken.write_text("mine")
    code, output = run_script("src/train.py", [f"hydra.run.dir={taken}", *QUICK])
    assert code == 1 and f"{taken} is a file where a folder is needed" in output and "Traceback" not in output
    assert taken.read_text() == "mine"


@pytest.mark.slow
def test_a_failing_sweep_job_is_reported_and_the_other_jobs_run(tmp_path):
    overrides = [
        f"hydra.sweep.dir={tmp_path}",
        *QUICK,
        "+callbacks.diverge._target_=tests.helpers.Diverge",
        "+callbacks.diverge.step=1",
        f"+callbacks.diverge.once_marker={tmp_path / 'diverged'}",
    ]
    code, output = run_script("src/train.py", ["-m", "seed=1,2", *overrides])
    assert code == 1, output[-3000:]
    assert "Training diverged: planned at generator step 1." in output and "Traceback" not in output
    assert (tmp_path / "1" / "checkpoints" / "last.ckpt").is_file(), "the job after the failed one ran"


@pytest.mark.slow
def test_a_failed_optuna_trial_is_recorded_and_the_study_goes_on(tmp_path):
    overrides = [
        "hparams_search=ring_optuna",
        "hydra.sweeper.n_trials=2",
        f"hydra.sweep.dir={tmp_path}",
        *QUICK,
        "+callbacks.diverge._target_=tests.helpers.Diverge",
        "+callbacks.diverge.step=1",
        f"+callbacks.diverge.once_marker={tmp_path / 'diverged'}",
    ]
    code, output = run_script("src/train.py", overrides)
    assert code == 0, output[-3000:]
    assert "Training diverged: planned at generator step 1." in output and "Traceback" not in output
    assert (tmp_path / "optimization_results.yaml").is_file()


@pytest.mark.slow
def test_a_config_mistake_in_a_sweep_stops_it_before_the_second_job(tmp_path):
    code, output = run_script(
        "src/train.py", ["-m", "seed=1,2", f"hydra.sweep.dir={tmp_path}", *QUICK, "data.batch_size=0"]
    )
    assert code == 1 and "data.batch_size=0 must be ≥ 1" in output and "Traceback" not in output
    assert not (tmp_path / "1").exists()


@pytest.mark.parametrize(
    "override,sentence",
    [
        ("hydra.sweeper.n_trials=0", "hydra.sweeper.n_trials=0: a study needs at least 1 trial."),
        ("hydra/launcher=slurm", "hydra/launcher=slurm submits the jobs to SLURM, and this machine has no srun"),
    ],
)
def test_a_sweep_setting_that_cannot_run_is_refused_before_any_job(tmp_path, caplog, override, sentence):
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from litgan.utils.hydra_callbacks import CheckSweep
    from tests.helpers import CONFIG_DIR

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        config = compose("train", overrides=["hparams_search=ring_optuna", override], return_hydra_config=True)
    assert config.hydra.callbacks.check_sweep._target_ == "litgan.utils.hydra_callbacks.CheckSweep"  # wired in
    with pytest.raises(SystemExit) as stop:
        CheckSweep().on_multirun_start(config)
    assert stop.value.code == 1 and sentence in caplog.text
