"""Loggers: Lightning's, where litgan's runs need more of them (configs/logger/)."""

from litgan.loggers.wandb import WandbLogger

__all__ = ["WandbLogger"]
