"""Callbacks: sample plots and toy-data metrics, logged to every active logger."""

from litgan.callbacks.mode_coverage import ModeCoverageCallback
from litgan.callbacks.samples import SamplePlots

__all__ = ["ModeCoverageCallback", "SamplePlots"]
