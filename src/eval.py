"""Evaluate a checkpoint: `python src/eval.py ckpt_path=<run>/checkpoints/last.ckpt`; see configs/eval.yaml."""

import hydra
from omegaconf import DictConfig

from litgan.evaluate import evaluate
from litgan.utils.errors import reported


@hydra.main(version_base="1.3", config_path="../configs", config_name="eval")
@reported
def main(cfg: DictConfig) -> None:
    evaluate(cfg)


if __name__ == "__main__":
    main()
