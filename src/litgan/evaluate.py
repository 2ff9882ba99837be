"""Evaluation of a trained checkpoint: rebuild the model from the run's saved config, generate
samples, and write them with a picture and a JSON report of the metrics."""

import json
import logging
import math
import os
import shutil
from pathlib import Path
from typing import Any

import hydra
import torch
from lightning import LightningDataModule, LightningModule
from omegaconf import DictConfig, OmegaConf
from torch import Tensor

from litgan.data.base import GANDataModule
from litgan.data.vision import ImageFolderDataset, list_images, refuse_unreadable_images
from litgan.metrics import ModeCoverage
from litgan.metrics.evaluator import ImageMetricEvaluator, seeded_samples
from litgan.metrics.image_quality import refuse_what_metrics_cannot_score
from litgan.metrics.mode_coverage import NUM_STD
from litgan.metrics.translation import TranslationJudge
from litgan.models.base import AdversarialModel
from litgan.models.build import load_model
from litgan.models.contract import Capability
from litgan.plots import image_grid, scatter_plot, shows_points
from litgan.utils.checkpoints import config_changes
from litgan.utils.config_checks import EVAL_OPTIONS, check_config, require_available_device
from litgan.utils.console import metrics_table
from litgan.utils.errors import ConfigError, reason_logged
from litgan.utils.files import atomic_save, atomic_write_text
from litgan.utils.metric_names import logged_names
from litgan.utils.progress import tracked

log = logging.getLogger(__name__)


@torch.no_grad()
def generate(
    model: AdversarialModel, num_samples: int, batch_size: int, seed: int
) -> list[tuple[Tensor, Tensor | None]]:
    """`num_samples` samples, in batches with their classes: those the training metrics would draw
    with this seed (`seeded_samples`), kept in host memory (the metrics move each batch back)."""
    batches = seeded_samples(model, num_samples, batch_size, seed)
    total = math.ceil(num_samples / batch_size)
    return [(images.cpu(), labels) for images, labels in tracked(batches, "Generating", long_from=20, total=total)]


def refuse_oversized(num_samples: int, sample_shape: tuple[int, ...], output_dir: Path) -> None:
    """eval.py holds its samples in memory and writes them to samples.pt: a count that would not
    fit in half the free memory, or on the output folder's disk, is refused with the estimate."""
    size = num_samples * math.prod(sample_shape) * 4  # float32
    memory = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    disk = shutil.disk_usage(output_dir).free
    if size > memory / 2 or size > disk:
        fits = int(min(memory / 2, disk) // (math.prod(sample_shape) * 4))
        raise ConfigError(
            f"num_samples={num_samples:,} would take {size / 2**30:,.1f} GiB of samples, held in memory and written "
            f"to samples.pt, and this machine has {memory / 2**30:,.1f} GiB of memory free and {disk / 2**30:,.1f} GiB "
            f"of disk in {output_dir}: ask for {fits:,} or fewer (FID is usually measured on 50,000)."
        )


def folder_images(images_dir: str, datamodule: LightningDataModule) -> ImageFolderDataset:
    """Every image under `images_dir`, resized to the dataset's shape, in [-1, 1]; read batch by
    batch, so that memory does not grow with the folder."""
    channels, size = datamodule.data_shape[0], datamodule.data_shape[-1]
    files = list_images(images_dir, key="images_dir")
    refuse_unreadable_images(files)
    return ImageFolderDataset(files, channels, size)


def prepared_metrics(
    metrics_cfg: DictConfig, datamodule: GANDataModule, **settings: Any
) -> ImageMetricEvaluator | None:
    """The training-time metrics' evaluator with eval.py's `settings`; None where the Inception
    weights are missing and `on_missing_weights=skip`."""
    options = {key: value for key, value in metrics_cfg.items() if key != "_target_"}
    metrics = ImageMetricEvaluator(**(options | settings))
    return metrics if metrics.prepare(datamodule) else None


@torch.no_grad()
def evaluate_translation(
    model: AdversarialModel,
    datamodule: GANDataModule,
    train_cfg: DictConfig,
    cfg: DictConfig,
    report: dict[str, Any],
    device: torch.device,
) -> dict[str, Any]:
    """Translation models (CycleGAN, StarGAN): translate the validation split as training does
    and report the translation measures (on the embedded shapes tasks) and a grid."""
    output_dir = Path(cfg.paths.output_dir)
    datamodule.setup("validate")
    judge = None
    if datamodule.knows_attributes:  # the classifiers the run was measured with (cached under paths.cache_dir)
        samples = OmegaConf.select(train_cfg, "callbacks.translation_measures.classifier_samples", default=2000)
        judge = TranslationJudge(datamodule.image_size, cfg.paths.cache_dir, samples).to(device)
    first_batch: tuple[torch.Tensor, ...] = ()
    model.on_validation_epoch_start()
    for index, batch in enumerate(datamodule.val_dataloader()):
        batch = tuple(tensor.to(device) for tensor in batch)
        first_batch = first_batch or batch
        outputs = model.validation_step(batch, index)
        if judge is not None:
            judge.update(*datamodule.expected_attributes(batch, outputs), outputs)
    metrics = logged_names({name: value.item() for name, value in judge.compute().items()}) if judge else {}
    grid = model.sample_grid(first_batch, cfg.grid_rows)
    title = f"{Path(cfg.ckpt_path).name}, generator step {report['generator_step']}"
    image_grid(grid.images, output_dir / "samples.png", cfg.grid_rows, title, grid.row_labels)
    report.update(num_translated=len(datamodule.val_dataloader().dataset), metrics=metrics)
    atomic_write_text(output_dir / "metrics.json", json.dumps(report, indent=2))
    log.info("Wrote the translations' picture and metrics.json to %s\n%s", output_dir, metrics_table(metrics))
    return report


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    with reason_logged(log, "Evaluation"):
        return measure(cfg)


def measure(cfg: DictConfig) -> dict[str, Any]:
    check_config(cfg, EVAL_OPTIONS)
    require_available_device("device", cfg.device, "device=cpu")
    device = torch.device(cfg.device)
    if cfg.get("images_dir") and cfg.get("ckpt_path"):
        raise ConfigError("ckpt_path= and images_dir= each name what to evaluate: give one of them.")
    output_dir = Path(cfg.paths.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if cfg.get("images_dir"):
        if cfg.get("data") is None:
            raise ConfigError("images_dir needs a dataset to compare against: add data=<name> (e.g. data=digits).")
        datamodule = hydra.utils.instantiate(cfg.data)
        if not cfg.get("metrics"):
            raise ConfigError(
                f"images_dir={cfg.images_dir} would be measured by nothing: a folder of images is scored by metrics=, "
                "so add metrics=domain (embedded labelled data) or metrics=inception."
            )
        refuse_what_metrics_cannot_score(None, datamodule)
        return measure_folder(cfg, datamodule, output_dir, device)
    if not cfg.get("ckpt_path"):
        raise ConfigError("Say what to evaluate: ckpt_path=<checkpoint> or images_dir=<folder> data=<dataset>.")
    model, datamodule, train_cfg, checkpoint = load_model(cfg.ckpt_path)
    if cfg.get("metrics"):
        refuse_what_metrics_cannot_score(model, datamodule)
    given_data = cfg.get("data") is not None  # data= is for images_dir; a checkpoint knows its own
    data_changes = config_changes(OmegaConf.to_container(train_cfg), cfg, groups=("data",)) if given_data else []
    if data_changes:
        raise ConfigError(
            f"{cfg.ckpt_path} was trained on other data ({'; '.join(map(str, data_changes))}), and eval.py measures a "
            "checkpoint on the data it was trained on: leave out data= (it is for images_dir=)."
        )
    model.to(device)
    model.sample_from_ema = cfg.ema
    report = {
        "checkpoint": str(Path(cfg.ckpt_path).resolve()),
        "generator_step": checkpoint["global_step"],
        "generator": "ema" if model.generator_ema is not None and cfg.ema else "trained",
        "model": train_cfg.model._target_,
        "data": OmegaConf.to_container(train_cfg.data, resolve=True),
        "seed": cfg.seed,
    }
    if Capability.TRANSLATE in model.capabilities:
        return evaluate_translation(model, datamodule, train_cfg, cfg, report, device)
    refuse_oversized(cfg.num_samples, tuple(datamodule.data_shape), output_dir)
    samples = generate(model, cfg.num_samples, cfg.batch_size, cfg.seed)
    fake = torch.cat([images for images, _ in samples])
    atomic_save(fake, output_dir / "samples.pt")
    report["num_samples"] = len(fake)
    picture = output_dir / "samples.png"
    if shows_points(datamodule.data_shape):
        datamodule.setup("validate")
        shown = fake[:2500]  # more hide the density
        title = f"{Path(cfg.ckpt_path).name}, generator step {report['generator_step']}: {len(shown):,} of {len(fake):,} samples"
        scatter_plot(datamodule.val_tensors[0], shown, picture, title=title)
    else:
        title = f"{Path(cfg.ckpt_path).name}, generator step {report['generator_step']}: the first samples"
        image_grid(fake[: cfg.grid_rows**2], picture, cfg.grid_rows, title)
    values, protocol = {}, {}
    if datamodule.modes is not None:
        num_std = OmegaConf.select(train_cfg, "callbacks.mode_coverage.num_std", default=NUM_STD)
        coverage = ModeCoverage(datamodule.modes, datamodule.std, num_std).to(device)
        coverage.update(fake.to(device))
        values |= {name: value.item() for name, value in coverage.compute().items()}
        protocol["mode_coverage"] = f"high quality = within {num_std:g} std of the nearest mode (VEEGAN/PacGAN)"
    settings = dict(num_samples=len(fake), batch_size=cfg.batch_size, seed=cfg.seed)
    metrics = prepared_metrics(cfg.metrics, datamodule, **settings) if cfg.get("metrics") else None
    if metrics is not None:
        values |= metrics.measure(model, datamodule, samples=samples)
        protocol |= metrics.protocol(len(metrics.reference), len(fake))
    if Capability.ENCODE in model.capabilities:
        values |= encoding_measures(model, datamodule, cfg, device)
    report.update(metrics=logged_names(values), protocol=protocol)
    atomic_write_text(output_dir / "metrics.json", json.dumps(report, indent=2))
    log.info(
        "Wrote %s samples' picture and metrics.json to %s\n%s", len(fake), output_dir, metrics_table(report["metrics"])
    )
    return report


def measure_folder(cfg: DictConfig, datamodule: GANDataModule, output_dir: Path, device: torch.device) -> dict:
    """`images_dir` scored by `metrics=` against the dataset, its images streamed in batches."""
    dataset = folder_images(cfg.images_dir, datamodule)
    batches = torch.utils.data.DataLoader(dataset, batch_size=cfg.batch_size)
    title = f"{cfg.images_dir}: the first images"
    image_grid(next(iter(batches))[0][: cfg.grid_rows**2], output_dir / "samples.png", cfg.grid_rows, title)
    metrics = prepared_metrics(cfg.metrics, datamodule, batch_size=cfg.batch_size)
    values, protocol = {}, {}
    if metrics is not None:
        metrics.to(device)
        real = metrics.reference_features(datamodule, device).to(device)
        images = (batch[0].to(device) for batch in tracked(batches, "Scoring", long_from=20))
        values = metrics.score(real, images, metrics.reference_radii(datamodule, real))
        protocol = metrics.protocol(len(real), len(dataset))
    report = {
        "images_dir": str(Path(cfg.images_dir).resolve()),
        "data": OmegaConf.to_container(cfg.data, resolve=True),
        "num_samples": len(dataset),
        "metrics": logged_names(values),
        "protocol": protocol,
    }
    atomic_write_text(output_dir / "metrics.json", json.dumps(report, indent=2))
    log.info(
        "Wrote the picture of %s images and metrics.json to %s\n%s",
        len(dataset),
        output_dir,
        metrics_table(report["metrics"]),
    )
    return report


@torch.no_grad()
def encoding_measures(model: LightningModule, datamodule: LightningDataModule, cfg: DictConfig, device) -> dict:
    """Encoding models (BiGAN): how well E and G invert each other on the validation split, and
    a picture of it, reconstructions.png: rows of x and G(E(x)) in turn for images, both as
    points for 2-D data."""
    rng = torch.Generator(device).manual_seed(cfg.seed)
    errors: dict[str, list[torch.Tensor]] = {}
    shown = None  # the first validation images, for the picture
    for x in datamodule.real_batches("val", cfg.batch_size):
        shown = x[: cfg.grid_rows**2 // 2] if shown is None else shown
        x = x.to(device)
        z = torch.randn(len(x), model.latent_dim, generator=rng, device=device)
        for name, values in model.reconstruction_errors(x, z).items():
            errors.setdefault(name, []).append(values.cpu())
    x = shown
    reconstructed = model.sample(model.encode(x.to(device))).cpu()
    picture = Path(cfg.paths.output_dir) / "reconstructions.png"
    if x.dim() == 2 and x.shape[1] == 2:
        scatter_plot(x, reconstructed, picture, title="x (data) and G(E(x)) (generated)")
    else:
        rows = [t for row in zip(x.split(cfg.grid_rows), reconstructed.split(cfg.grid_rows)) for t in row]
        labels = ("x", "G(E(x))") * (len(rows) // 2)
        image_grid(torch.cat(rows), picture, cfg.grid_rows, "validation images x and their round trips G(E(x))", labels)
    return {name: torch.cat(values).mean().item() for name, values in errors.items()}
