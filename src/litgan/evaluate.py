"""Evaluation of a trained checkpoint: rebuild the model from the run's saved config, generate
samples, and write them with a picture and a JSON report of the metrics."""

import json
import logging
from pathlib import Path
from typing import Any

import hydra
import torch
from lightning import LightningDataModule, LightningModule
from omegaconf import DictConfig, OmegaConf

from litgan.callbacks.samples import image_grid, scatter_plot
from litgan.metrics import ModeCoverage
from litgan.train import build_model

log = logging.getLogger(__name__)


def load_model(
    ckpt_path: str | Path,
) -> tuple[LightningModule, LightningDataModule, DictConfig, dict[str, Any]]:
    """Rebuild datamodule and model from the config saved in a litgan checkpoint, with its weights."""
    ckpt_path = Path(ckpt_path)
    if not ckpt_path.is_file():
        raise FileNotFoundError(f"Checkpoint {ckpt_path.resolve()} does not exist.")
    # our checkpoints hold loop and RNG state besides tensors, hence weights_only=False
    checkpoint = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    run_config = checkpoint.get("hyper_parameters", {}).get("run_config")
    if run_config is None:
        raise ValueError(
            f"{ckpt_path} holds no training config: it was not written by litgan's train()."
        )
    train_cfg = OmegaConf.create(run_config)
    datamodule = hydra.utils.instantiate(train_cfg.data)
    model = build_model(train_cfg, datamodule)
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval(), datamodule, train_cfg, checkpoint


@torch.no_grad()
def generate(
    generator: torch.nn.Module, num_samples: int, batch_size: int, seed: int, device: torch.device
) -> torch.Tensor:
    rng = torch.Generator(device).manual_seed(seed)
    chunks = []
    for start in range(0, num_samples, batch_size):
        n = min(batch_size, num_samples - start)
        chunks.append(
            generator(torch.randn(n, generator.latent_dim, generator=rng, device=device)).cpu()
        )
    return torch.cat(chunks)


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    ckpt_path = Path(cfg.ckpt_path)
    model, datamodule, train_cfg, checkpoint = load_model(ckpt_path)
    device = torch.device(cfg.device)
    model.to(device)

    fake = generate(model.generator, cfg.num_samples, cfg.batch_size, cfg.seed, device)
    output_dir = Path(cfg.paths.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    torch.save(fake, output_dir / "samples.pt")

    report: dict[str, Any] = {
        "checkpoint": str(ckpt_path.resolve()),
        "generator_step": checkpoint["global_step"],
        "model": train_cfg.model._target_,
        "data": train_cfg.data._target_,
        "num_samples": cfg.num_samples,
        "seed": cfg.seed,
        "metrics": {},
    }
    picture = output_dir / "samples.png"
    if fake.dim() == 2 and fake.shape[1] == 2:
        datamodule.setup("validate")
        scatter_plot(
            datamodule.val_tensors[0],
            fake[:2500],
            picture,
            title=f"{ckpt_path.name}: generator step {report['generator_step']}",
        )
    else:
        image_grid(fake[: cfg.grid_rows**2], picture, nrow=cfg.grid_rows)
    modes = getattr(datamodule, "modes", None)
    if modes is not None:
        coverage = ModeCoverage(modes, datamodule.std)
        coverage.update(fake)
        report["metrics"] = {f"val/{k}": v.item() for k, v in coverage.compute().items()}
        report["protocol"] = (
            "mode coverage: high quality = within 3 std of the nearest mode (VEEGAN/PacGAN)"
        )

    (output_dir / "metrics.json").write_text(json.dumps(report, indent=2))
    log.info(
        "Wrote %s samples, %s and metrics.json to %s", cfg.num_samples, picture.name, output_dir
    )
    return report
