"""Models from configs: built for a datamodule at the start of training, or rebuilt from a
checkpoint (which carries the config it was trained with) by eval.py, notebooks and benchmarks."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import hydra
import yaml
from hydra.errors import InstantiationException
from omegaconf import DictConfig, OmegaConf

from litgan.data.base import GANDataModule, TrainingData
from litgan.models.base import AdversarialModel
from litgan.models.contract import Capability
from litgan.nets.roles import Discriminator, Generator
from litgan.utils.checkpoints import read_checkpoint, run_config
from litgan.utils.config_sources import CONFIG_DIR
from litgan.utils.errors import ConfigError, UserError


def group_options(group: str, accepts: Callable[[dict[str, Any]], bool]) -> str:
    """The configs of a group (configs/<group>/) whose contents `accepts`, as `group=a, b`; the
    blocks that others start from (`_shared`) are not choices."""
    paths = sorted(path for path in CONFIG_DIR.glob(f"{group}/*.yaml") if not path.stem.startswith("_"))
    return f"{group}=" + ", ".join(path.stem for path in paths if accepts(yaml.safe_load(path.read_text()) or {}))


def data_options(accepts: Callable[[type[GANDataModule]], bool]) -> str:
    """The data configs whose datamodule class `accepts`, as `data=a, b`."""
    return group_options(
        "data",
        lambda config: (
            "_target_" in (config.get("data") or {}) and accepts(hydra.utils.get_class(config["data"]["_target_"]))
        ),
    )


def nets_fit(
    model_class: type[AdversarialModel], generator: type[Generator], discriminator: type[Discriminator]
) -> bool:
    return (
        generator.takes == model_class.generator_takes
        and discriminator.classifies_domains == model_class.discriminator_classifies_domains
    )


def check_nets(model_class: type[AdversarialModel], model_cfg: DictConfig) -> None:
    """Refuse, before any net is built, an architecture whose nets the model cannot use."""
    generator = hydra.utils.get_class(model_cfg.generator._target_)
    discriminator = hydra.utils.get_class(model_cfg.discriminator._target_)
    for net, role in ((generator, Generator), (discriminator, Discriminator)):
        if not issubclass(net, role):
            raise TypeError(
                f"{net.__name__} is not a litgan.nets.roles.{role.__name__}: a net subclasses it, so that models can "
                f'tell what it is (README, "Adding a model").'
            )
    if model_cfg.get("conditioning") == "projection" and not (
        generator.conditions_on_classes and discriminator.conditions_on_classes
    ):
        native = group_options(
            "architecture",
            lambda nets: all(
                hydra.utils.get_class(nets[role]["_target_"]).conditions_on_classes
                for role in ("generator", "discriminator")
            ),
        )
        raise ConfigError(
            f"model.conditioning=projection needs nets with conditional batch norm and a projection head, which "
            f"{generator.__name__} and {discriminator.__name__} are not: {native}, or model.conditioning=concat."
        )
    if nets_fit(model_class, generator, discriminator):
        return
    fitting = group_options(
        "architecture",
        lambda nets: nets_fit(
            model_class,
            hydra.utils.get_class(nets["generator"]["_target_"]),
            hydra.utils.get_class(nets["discriminator"]["_target_"]),
        ),
    )
    families = group_options(
        "model",
        lambda config: (
            "_target_" in (config.get("model") or {})
            and nets_fit(hydra.utils.get_class(config["model"]["_target_"]), generator, discriminator)
        ),
    )
    needs = "with" if model_class.discriminator_classifies_domains else "without"
    has = "a" if discriminator.classifies_domains else "no"
    raise ConfigError(
        f"{model_class.__name__} needs a generator that takes {model_class.generator_takes.value} and a discriminator "
        f"{needs} a domain classifier, and this architecture has {generator.__name__} (takes {generator.takes.value}) "
        f"and {discriminator.__name__} ({has} domain classifier): use {fitting}"
        + (f", or, for these nets, {families}." if families != "model=" else ".")
    )


def chosen_model_class(cfg: DictConfig) -> type[AdversarialModel]:
    """The model family the config chooses, once its architecture's nets are known to fit it: checked
    before the config's keys, whose complaint about a net's parameter would hide the misfit."""
    if "_target_" not in cfg.model:  # model=_shared, the block the presets start from
        models = group_options("model", lambda config: True)
        raise ConfigError(f"The chosen model config names no model class: choose a model preset, {models}.")
    model_class: type[AdversarialModel] = hydra.utils.get_class(cfg.model._target_)
    check_nets(model_class, cfg.model)
    return model_class


def build_model(cfg: DictConfig, datamodule: GANDataModule) -> AdversarialModel:
    """The model for this data: nets are built for the dataset's sample shape (and classes or
    domain labels, for the families that declare they use them); a model and nets, or a model and
    data, that do not fit each other are refused."""
    model_class = chosen_model_class(cfg)
    if not datamodule.provides(model_class.trains_on):
        fitting = data_options(lambda data: data.provides(model_class.trains_on))
        raise ConfigError(
            f"{model_class.__name__} trains on {model_class.trains_on.value}, which {type(datamodule).__name__} does "
            f"not provide; data that does: {fitting}."
        )
    if Capability.CONDITION in model_class.capabilities and not datamodule.num_classes:
        raise ConfigError(
            f"{model_class.__name__} needs a labelled dataset, and {type(datamodule).__name__} has no labels: "
            f"{data_options(lambda data: data.labelled)}."
        )
    if cfg.model.get("augment") and len(datamodule.data_shape) != 3:
        raise ConfigError(
            f"model.augment (DiffAugment) transforms images, and {type(datamodule).__name__} provides samples of "
            f"shape {tuple(datamodule.data_shape)}: leave model.augment=null, or train on images (e.g. data=digits)."
        )
    extra: dict[str, Any] = {}
    if Capability.CONDITION in model_class.capabilities:
        extra["num_classes"] = datamodule.num_classes
        extra["class_names"] = list(datamodule.class_names)
    if model_class.trains_on == TrainingData.DOMAIN_LABELS:
        extra["domain_groups"] = list(datamodule.domain_groups)
    try:
        model = hydra.utils.instantiate(cfg.model, data_shape=datamodule.data_shape, **extra)
    except InstantiationException as error:  # a model's own refusal stays one sentence
        if isinstance(error.__cause__, UserError):
            raise error.__cause__ from None
        raise
    datamodule.batches_per_step = model.n_critic  # each critic update gets a fresh real minibatch
    return model


def load_model(
    ckpt_path: str | Path,
) -> tuple[AdversarialModel, GANDataModule, DictConfig, dict[str, Any]]:
    """Rebuild datamodule and model from the config saved in a litgan checkpoint, with its weights."""
    checkpoint = read_checkpoint(ckpt_path)
    train_cfg = OmegaConf.create(run_config(checkpoint))
    datamodule = hydra.utils.instantiate(train_cfg.data)
    model = build_model(train_cfg, datamodule)
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval(), datamodule, train_cfg, checkpoint
