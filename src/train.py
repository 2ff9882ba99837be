"""Train a GAN: `python src/train.py [group=option ...] [key=value ...]`; see configs/train.yaml."""

import hydra
from omegaconf import DictConfig

from litgan.train import train
from litgan.utils.errors import reported


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
@reported
def main(cfg: DictConfig) -> float | None:
    metrics = train(cfg)
    metric = cfg.get("optimized_metric")
    return metrics.get(metric) if metric else None  # the value Hydra sweepers (Optuna, ...) minimise


if __name__ == "__main__":
    main()
