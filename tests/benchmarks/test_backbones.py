"""Each image backbone on the procedural scenes at 32x32 for a fixed number of generator steps (WGAN-GP
for the nets that take noise, StyleGAN2's own training for its nets), its domain FID (in the features
of a classifier of the scenes' shapes) and its seconds per generator step on this machine. Run with
`make bench`; the README's "Architectures" shows the table."""

import json
import time
from pathlib import Path

import pytest

from litgan.train import train
from tests.helpers import compose_train_config

pytestmark = pytest.mark.bench

# measured 6 December 2026 (seed 42), plus a margin: DCGAN 319.8, ResNet 76.0, StyleGAN2 172.3
FID_AT_300 = {"dcgan": 400.0, "resnet": 120.0, "stylegan2": 220.0}

STEPS = 300
BACKBONES = {
    "dcgan": ["architecture=dcgan", "architecture.generator.features=32", "architecture.discriminator.features=32"],
    # a quarter of SNGAN's widths: 64 generator channels, 32 in the critic
    "resnet": ["architecture=resnet", "architecture.generator.width=16", "architecture.discriminator.width=16"],
    # StyleGAN2's preset (one critic update per step, lazy R1 and path lengths) at a quarter of its
    # CIFAR channels: 128, 128, 64 and 32 from 4x4 to 32x32
    "stylegan2": [
        "model=stylegan2",
        *(
            f"architecture.{net}.{key}"
            for net in ("generator", "discriminator")
            for key in ("channel_base=1024", "channel_max=128")
        ),
    ],
}


@pytest.mark.parametrize("backbone", BACKBONES)
def test_backbone_on_the_procedural_scenes(tmp_path, backbone):
    model = [] if backbone == "stylegan2" else ["model=wgan_gp"]
    overrides = [*model, "data=shapes", *BACKBONES[backbone], "metrics=domain", "metrics.num_samples=1000"]
    overrides += [f"trainer.max_steps={STEPS}", f"trainer.val_check_interval={STEPS}", "logger=csv"]
    overrides += ["~callbacks.progress_bar", "~callbacks.sample_plots"]
    start = time.perf_counter()
    metrics = train(compose_train_config(overrides, tmp_path))
    seconds = time.perf_counter() - start
    row = {"backbone": backbone, "steps": STEPS, "fid_domain": metrics["val/fid_domain"], "s_per_step": seconds / STEPS}
    print(f"backbone {backbone}: domain FID {row['fid_domain']:.2f} after {STEPS} generator steps, "
          f"{row['s_per_step']:.2f} s per step (with one validation)")  # fmt: skip
    out = Path("logs/bench")
    out.mkdir(parents=True, exist_ok=True)
    (out / f"backbone_{backbone}.json").write_text(json.dumps(row, indent=2))
    assert row["fid_domain"] < FID_AT_300[backbone]
