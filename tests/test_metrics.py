"""Mode coverage (VEEGAN / PacGAN protocol) on hand-made samples."""

import math

import pytest
import torch

from litgan.data.toy import ring_modes
from litgan.metrics import ModeCoverage


def metric() -> ModeCoverage:
    return ModeCoverage(ring_modes(), std=0.01)  # high quality: within 0.03 of a mode


def test_perfect_samples_cover_every_mode_with_zero_reverse_kl():
    m = metric()
    m.update(ring_modes().repeat(10, 1))
    values = m.compute()
    assert (
        values["modes"] == 8
        and values["hq_fraction"] == 1
        and values["reverse_kl"].item() == pytest.approx(0, abs=1e-6)
    )


def test_collapse_onto_two_modes_with_some_junk():
    m = metric()
    modes = ring_modes()
    m.update(modes[[0, 0, 0, 1]] + 0.02)  # 0.028 from the mode: still high quality
    m.update(torch.zeros(4, 2))  # the centre is 1.0 from every mode: low quality
    values = m.compute()
    assert values["modes"] == 2
    assert values["hq_fraction"].item() == pytest.approx(0.5)
    q = torch.tensor([0.75, 0.25])
    assert values["reverse_kl"].item() == pytest.approx((q * torch.log(q * 8)).sum().item(), rel=1e-5)


def test_no_high_quality_sample_gives_log_num_modes():
    m = metric()
    m.update(torch.zeros(5, 2))
    values = m.compute()
    assert values["modes"] == 0 and values["hq_fraction"] == 0
    assert values["reverse_kl"].item() == pytest.approx(math.log(8))


def test_updates_accumulate_like_one_batch():
    samples = ring_modes()[torch.randint(8, (100,))] + 0.015 * torch.randn(100, 2)
    whole, parts = metric(), metric()
    whole.update(samples)
    for chunk in samples.chunk(7):
        parts.update(chunk)
    assert all(torch.equal(whole.compute()[k], parts.compute()[k]) for k in ("modes", "hq_fraction", "reverse_kl"))


def test_the_mode_coverage_callback_speaks_only_of_points_without_modes(compose_config, caplog):
    from types import SimpleNamespace

    from hydra.utils import instantiate

    from litgan.callbacks import ModeCoverageCallback

    callback = ModeCoverageCallback()
    with caplog.at_level("INFO"):
        for data in ("digits", "swissroll"):  # mode counts are expected of points, never of images
            callback.setup(SimpleNamespace(datamodule=instantiate(compose_config([f"data={data}"]).data)), None, "fit")
            assert callback.metric is None
            assert ("the dataset has no modes" in caplog.text) == (data == "swissroll")
