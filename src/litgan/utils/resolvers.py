"""OmegaConf resolvers the configs use; registered by the entry scripts before Hydra composes."""

import os
from pathlib import Path

from omegaconf import OmegaConf

from litgan.utils.metric_names import metric_mode

_claimed: dict[str, str] = {}


def unique_dir(base: str) -> str:
    """`base`, or `base-1`, `base-2`, ... : the first that this call creates.

    Creating the folder is the claim (mkdir is atomic, also on shared cluster file systems), so
    two runs started in the same second, by hand or by a launcher, never share a folder. Within
    one process the same base keeps its folder, however often Hydra resolves the path.
    """
    if base not in _claimed:
        for attempt in range(10_000):
            candidate = base if attempt == 0 else f"{base}-{attempt}"
            try:
                os.makedirs(Path(candidate).parent, exist_ok=True)
                os.mkdir(candidate)
            except FileExistsError:
                continue
            _claimed[base] = candidate
            break
        else:
            raise FileExistsError(f"Could not create a new run folder next to {base}: 10,000 already exist.")
    return _claimed[base]


def optuna_direction(mode: str) -> str:
    """`optimized_metric_mode` (min/max, as ModelCheckpoint takes it) in Optuna's words."""
    directions = {"min": "minimize", "max": "maximize"}
    if mode not in directions:
        raise ValueError(f"optimized_metric_mode must be min or max, not {mode!r}.")
    return directions[mode]


def register_resolvers() -> None:
    OmegaConf.register_new_resolver("unique_dir", unique_dir, use_cache=True, replace=True)
    OmegaConf.register_new_resolver("optuna_direction", optuna_direction, replace=True)
    OmegaConf.register_new_resolver("metric_mode", metric_mode, replace=True)
