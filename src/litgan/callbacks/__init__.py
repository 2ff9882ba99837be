"""Callbacks: checkpoints, progress, sample plots and metrics, logged to every active logger."""

import warnings

from lightning.pytorch.utilities.warnings import PossibleUserWarning

from litgan.callbacks.checkpoints import BestCheckpoint, LastCheckpoint
from litgan.callbacks.image_metrics import ImageQualityMetrics
from litgan.callbacks.learning_rates import LearningRates
from litgan.callbacks.mode_coverage import ModeCoverageCallback
from litgan.callbacks.progress import StepProgressBar
from litgan.callbacks.report import ParameterSummary, RunReport
from litgan.callbacks.samples import SamplePlots
from litgan.callbacks.translation_measures import TranslationMeasures

__all__ = [
    "BestCheckpoint",
    "ImageQualityMetrics",
    "LastCheckpoint",
    "LearningRates",
    "ModeCoverageCallback",
    "ParameterSummary",
    "RunReport",
    "SamplePlots",
    "StepProgressBar",
    "TranslationMeasures",
]

# ModelCheckpoint(every_n_train_steps) warns under manual optimisation that it saves the state
# after the optimiser steps: that is the state litgan resumes from, on purpose.
warnings.filterwarnings("ignore", message="Using ModelCheckpoint with manual optimization")
# Under DDP the metric callbacks log values their torchmetrics states have already reduced over all
# processes; Lightning cannot tell, and recommends sync_dist=True, which would average equal values.
# The logged `step` (every logger's x axis: generator steps) is the same number in every process.
warnings.filterwarnings(
    "ignore", message=r"It is recommended to use `self.log\('(val/|step)", category=PossibleUserWarning
)
