"""Which chosen config set a value of another group: `metrics=domain` sets
`trainer.val_check_interval=500`, `model=wgan_gp` sets `architecture.discriminator.norm=layer`.
A run says so in its first lines, so that no setting moves without a word."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

CONFIG_DIR = Path(__file__).resolve().parents[3] / "configs"

# groups whose purpose is to set the others' values
SETTING_GROUPS = ("experiment", "hparams_search", "debug")


def flat(node: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from flat(value, f"{prefix}{key}.")
    else:
        yield prefix.removesuffix("."), node


def own_settings(config_dir: Path, group: str, option: str) -> dict[str, Any]:
    """The values a group's config file sets (with those of the configs of the same group it
    starts from, e.g. `_shared`, `gan`), as dotted keys."""
    path = config_dir / group / f"{option}.yaml"
    raw = yaml.safe_load(path.read_text()) or {}
    settings: dict[str, Any] = {}
    for entry in raw.pop("defaults", []):
        if isinstance(entry, str) and entry != "_self_" and (config_dir / group / f"{entry}.yaml").is_file():
            settings |= own_settings(config_dir, group, entry)
    return settings | dict(flat(raw))


def settings_from_other_groups(cfg: DictConfig, choices: dict[str, str | None], config_dir: Path) -> list[str]:
    """`group=option sets key=value` for every value a chosen config sets in another group and that
    the run keeps (the command line did not override it)."""
    groups = {group for group in choices if not group.startswith("hydra")}
    said = []
    for group, option in choices.items():
        if group not in groups or group in SETTING_GROUPS or not option:
            continue
        if not (config_dir / group / f"{option}.yaml").is_file():
            continue
        for key, value in own_settings(config_dir, group, option).items():
            top = key.split(".")[0]
            if top in groups and top != group and OmegaConf.select(cfg, key) == value:
                said.append(f"{group}={option} sets {key}={value}")
    return said
