"""Metrics as torchmetrics objects, so that their state synchronises across processes."""

from litgan.metrics.mode_coverage import ModeCoverage

__all__ = ["ModeCoverage"]
