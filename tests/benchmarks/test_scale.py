"""Real folders at CelebA scale: a folder of LITGAN_BENCH_IMAGES procedurally drawn 64 px PNGs
(200,000 unless set; drawn once into .cache/litgan-bench, about 6 minutes) must start, validate and
be measured in bounded time and memory. Run alone (`make bench ARGS="-k scale"`): timings on 2 cores
mean nothing beside another busy process."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from lightning import Callback
from PIL import Image

from litgan.data.shapes import make_scenes
from litgan.data.vision import ImageFolderDataModule

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]
IMAGES = int(os.environ.get("LITGAN_BENCH_IMAGES", "200000"))
SIZE = 64


def image_folder(count: int) -> Path:
    """`count` seeded scenes as PNG files, 1,000 to a subfolder (as large datasets are laid out)."""
    folder = ROOT / ".cache" / "litgan-bench" / f"scenes-{count}-{SIZE}px"
    done = folder / ".complete"
    if done.exists():
        return folder
    for start in range(0, count, 5000):
        images, _ = make_scenes(min(5000, count - start), seed=start, image_size=SIZE)
        pixels = ((images.permute(0, 2, 3, 1).numpy() + 1) * 127.5).round().astype(np.uint8)
        for offset, image in enumerate(pixels):
            index = start + offset
            (folder / f"{index // 1000:04d}").mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(folder / f"{index // 1000:04d}" / f"{index:07d}.png")
    done.touch()
    return folder


def rss_mb() -> tuple[float, float]:
    """This process's resident memory now and at its peak, in MB."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


class Probe(Callback):
    """Writes to `report` (JSON) when the first step started, how long each validation took, and
    the memory after each."""

    def __init__(self, report: str) -> None:
        self.report = Path(report)
        self.first_step: float | None = None  # the clock's time (time.time), to compare with the launch
        self.validations: list[tuple[float, float, float]] = []  # seconds, RSS, peak RSS

    def on_train_batch_start(self, *args) -> None:
        self.first_step = self.first_step or time.time()

    def on_validation_start(self, *args) -> None:
        self.validation_start = time.perf_counter()

    def on_validation_end(self, *args) -> None:
        self.validations.append((time.perf_counter() - self.validation_start, *rss_mb()))

    def on_train_end(self, *args) -> None:
        self.report.write_text(json.dumps({"first_step": self.first_step, "validations": self.validations}))


# eval.py in a child process that prints its own peak memory at the end
PEAK_MEMORY = (
    "import pathlib, runpy, sys\nsys.argv = sys.argv[1:]\ntry:\n    runpy.run_path(sys.argv[0], run_name='__main__')\n"
    "finally:\n    print(next(l for l in pathlib.Path('/proc/self/status').read_text().splitlines() if l.startswith('VmHWM')))"
)


def run(args: list[str]) -> str:
    environment = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}", "WANDB_MODE": "offline"}
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, check=True, capture_output=True, text=True, env=environment
    )
    return done.stdout


def test_a_large_image_folder_starts_validates_and_is_measured_in_bounded_time_and_memory(tmp_path):
    folder = image_folder(IMAGES)
    cache = tmp_path / "cache"
    rows = []

    started = time.perf_counter()
    ImageFolderDataModule(root=str(folder), image_size=SIZE, cache_dir=str(cache), num_workers=0).setup("fit")
    first_check = time.perf_counter() - started
    started = time.perf_counter()
    ImageFolderDataModule(root=str(folder), image_size=SIZE, cache_dir=str(cache), num_workers=0).setup("fit")
    second_check = time.perf_counter() - started
    rows.append(("folder: first run (list, decode every image, remember)", f"{first_check:.1f} s"))
    rows.append(("folder: a later run (list, compare sizes and times)", f"{second_check:.2f} s"))

    report = tmp_path / "probe.json"
    overrides = [
        "data=image_folder", f"data.root={folder}", f"data.image_size={SIZE}", "architecture=dcgan",
        "model=wgan_gp", "model.n_critic=1", "trainer.max_steps=40", "trainer.val_check_interval=4",
        "logger=csv", "~callbacks.progress_bar", f"paths.cache_dir={cache}",
        "+callbacks.probe._target_=tests.benchmarks.test_scale.Probe", f"+callbacks.probe.report={report}",
    ]  # fmt: skip
    launched = time.time()
    run(["src/train.py", f"hydra.run.dir={tmp_path / 'run'}", *overrides])
    probe = json.loads(report.read_text())
    durations = [seconds for seconds, _, _ in probe["validations"]]
    peaks = [peak for _, _, peak in probe["validations"]]
    rows.append(("train: launch to the first step", f"{probe['first_step'] - launched:.1f} s"))
    rows.append(("train: one validation, no metrics (median of 10)", f"{sorted(durations)[len(durations) // 2]:.2f} s"))
    rows.append(("train: peak RSS after the 1st and the 10th validation", f"{peaks[0]:,.0f} MB, {peaks[-1]:,.0f} MB"))

    # the domain classifier eval.py scores with is trained once, before the timed runs
    run(["src/eval.py", f"images_dir={image_folder(2000)}", "data=digits", "metrics=domain", f"metrics.cache_dir={cache}",
         f"hydra.run.dir={tmp_path / 'eval-warm-up'}"])  # fmt: skip
    for count in sorted({c for c in (2000, 20000) if c < IMAGES} | {IMAGES}):
        eval_dir = tmp_path / f"eval-{count}"
        subset = folder if count == IMAGES else image_folder(count)
        started = time.perf_counter()
        output = run(["-c", PEAK_MEMORY, "src/eval.py", f"images_dir={subset}", "data=digits", "metrics=domain",
                      f"metrics.cache_dir={cache}", f"hydra.run.dir={eval_dir}"])  # fmt: skip
        peak = int(output.split("VmHWM:")[-1].split()[0]) / 1024
        rows.append(
            (
                f"eval images_dir, {count:,} images: time, peak RSS",
                f"{time.perf_counter() - started:.0f} s, {peak:,.0f} MB",
            )
        )

    print(f"\n{IMAGES:,} images of {SIZE} px, 2 CPU cores")
    for name, value in rows:
        print(f"| {name} | {value} |")
    assert second_check <= 2.0
    assert sorted(durations)[len(durations) // 2] <= 2.0
    assert peaks[-1] <= 1.1 * peaks[0]


def test_a_validations_metrics_cost_does_not_grow_with_the_reference():
    """FID, KID and precision/recall on 2048-d features (as InceptionV3's) of LITGAN_BENCH_REFERENCE
    real images (20,000 unless set) and 10,000 samples: the first validation computes the
    reference's statistics (precision/recall's k-NN radii are O(reals²)), later ones only the
    samples'. The previous code computed every validation as the first."""
    from litgan.metrics.image_quality import ImageQuality

    reals = int(os.environ.get("LITGAN_BENCH_REFERENCE", "20000"))
    generator = torch.Generator().manual_seed(0)
    real, fake = torch.randn(reals, 2048, generator=generator), torch.randn(10_000, 2048, generator=generator)
    quality = ImageQuality(2048, inception_score=False)
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        quality.evaluate(lambda features: (features, None), real, fake.split(500))
        timings.append(time.perf_counter() - started)
    print(f"\n| metrics of a validation, {reals:,} reals, 10,000 samples: first, later | "
          f"{timings[0]:.1f} s, {timings[1]:.1f} s |")  # fmt: skip
    assert timings[1] < 0.8 * timings[0]  # measured: 39.4 s, then 24.8 s (20,000 reals, 2 cores)
