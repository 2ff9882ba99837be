"""Start-up checks of a composed config, so that a typo costs one sentence, not a run.

Every value given to a constructor (a `_target_` entry) must fit the type the constructor's
signature declares and be one of its parameters; the values users set most must also lie in the
range `RANGES` gives their name, whichever class takes them. Top-level options that no
constructor takes are declared by the entry point (`TRAIN_OPTIONS`, `EVAL_OPTIONS`)."""

import functools
import inspect
import typing
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import hydra
import torch
from omegaconf import DictConfig, ListConfig, OmegaConf
from pydantic import ConfigDict, TypeAdapter, ValidationError


class ConfigError(ValueError):
    """A composed config that cannot run; the message names every offending key."""


class Bound(typing.NamedTuple):
    minimum: float
    inclusive: bool = True
    below: float | None = None  # an exclusive upper bound, where there is one

    def holds(self, value: float) -> bool:
        above = value >= self.minimum if self.inclusive else value > self.minimum
        return above and (self.below is None or value < self.below)

    def __str__(self) -> str:
        lower = f"{'≥' if self.inclusive else '>'} {self.minimum:g}"
        return lower if self.below is None else f"{lower} and < {self.below:g}"


RANGES: dict[str, Bound] = {
    "max_steps": Bound(-1),  # Lightning's -1: no limit
    "batch_size": Bound(1),
    "val_batch_size": Bound(1),
    "n_critic": Bound(1),
    "lr": Bound(0, inclusive=False),
    "gradient_penalty_weight": Bound(0),
    "weight_clip": Bound(0, inclusive=False),
    "ema_decay": Bound(0, inclusive=False, below=1),
    "ema_start": Bound(0),
    "num_samples": Bound(1),
    "num_val_samples": Bound(1),
    "num_real_samples": Bound(1),
    "classifier_samples": Bound(1),
    "latent_dim": Bound(1),
    "hidden_dim": Bound(1),
    "features": Bound(1),
    "image_size": Bound(8),
    "num_workers": Bound(0),
    "cpu_threads": Bound(1),
    "every_n_train_steps": Bound(1),
    "grid_rows": Bound(1),
}

TRAIN_OPTIONS: dict[str, Any] = {
    "seed": int,  # every run is seeded: the processes of a DDP run share its numbers, checkpoints keep them
    "ckpt_path": str | None,
    "auto_resume": bool,
    "allow_resume_changes": bool,
    "optimized_metric": str | None,
    "optimized_metric_mode": Literal["min", "max"],
    "cpu_threads": int | None,
}

EVAL_OPTIONS: dict[str, Any] = {
    "ckpt_path": str | None,
    "images_dir": str | None,
    "num_samples": int,
    "seed": int,
    "batch_size": int,
    "device": str,
    "grid_rows": int,
    "ema": bool,
}


def check_config(cfg: DictConfig, options: Mapping[str, Any]) -> None:
    """Raise a `ConfigError` listing every value of `cfg` that does not fit its declaration."""
    problems = [
        problem for key, kind in options.items() if key in cfg for problem in check_value(key, plain(cfg[key]), kind)
    ]
    problems += [problem for key in cfg if key != "hydra" for problem in walk(key, cfg, key)]
    if problems:
        raise ConfigError("Invalid config: " + "; ".join(problems) + ".")


def require_gpu_if_asked(key: str, device: str | None, alternative: str) -> None:
    """An accelerator or device that asks for a GPU on a machine without one, refused with the way out."""
    if str(device).split(":")[0] in {"gpu", "cuda"} and not torch.cuda.is_available():
        raise ConfigError(f"{key}={device}, but PyTorch finds no CUDA GPU on this machine: use {alternative}.")


def plain(value: Any) -> Any:
    return OmegaConf.to_container(value, resolve=True) if isinstance(value, DictConfig | ListConfig) else value


def walk(path: str, parent: DictConfig | ListConfig, key: Any) -> Iterator[str]:
    """The problems of every `_target_` entry at or below `parent[key]`; an entry copied in by
    interpolation (`model.generator: ${architecture.generator}`) is checked where it is written."""
    node = parent[key]
    if not isinstance(node, DictConfig | ListConfig) or OmegaConf.is_interpolation(parent, key):
        return
    if isinstance(node, DictConfig):
        if "_target_" in node:
            yield from check_arguments(path, node)
        for child in node:
            yield from walk(f"{path}.{child}", node, child)
    else:
        for index in range(len(node)):
            yield from walk(f"{path}[{index}]", node, index)


def check_arguments(path: str, node: DictConfig) -> Iterator[str]:
    try:
        target = hydra.utils.get_object(node._target_)
    except Exception:  # noqa: BLE001 - the message names the target that cannot be imported
        yield f"{path}._target_={node._target_!r} cannot be imported"
        return
    parameters, takes_any = declared_parameters(target)
    name = target.__qualname__
    for key in node:
        value = plain(node[key])
        if key.startswith("_") or isinstance(value, dict) and "_target_" in value:
            continue  # Hydra's own keys; nested objects are checked on their own
        if key not in parameters and not takes_any:
            yield f"{path}.{key} is not a parameter of {name}"
            continue
        yield from check_value(f"{path}.{key}", value, parameters.get(key, Any), owner=name)


def check_value(path: str, value: Any, kind: Any, owner: str | None = None) -> Iterator[str]:
    if kind is not Any:
        try:
            type_adapter(kind).validate_python(value)
        except ValidationError:
            yield f"{path}={value!r} is not {describe(kind)}" + (f" (as {owner} declares)" if owner else "")
            return
        except Exception:  # noqa: BLE001 - a type pydantic cannot express: left to the constructor
            pass
    bound = RANGES.get(path.rsplit(".", 1)[-1])
    if bound and isinstance(value, int | float) and not isinstance(value, bool) and not bound.holds(value):
        yield f"{path}={value!r} must be {bound}"


@functools.cache
def type_adapter(kind: Any) -> TypeAdapter:
    return TypeAdapter(kind, config=ConfigDict(arbitrary_types_allowed=True))


def describe(kind: Any) -> str:
    if typing.get_origin(kind) is Literal:
        return "one of " + ", ".join(map(repr, typing.get_args(kind)))
    return "of type " + (kind.__name__ if isinstance(kind, type) else str(kind).replace("typing.", ""))


def declared_parameters(target: Any) -> tuple[dict[str, Any], bool]:
    """A function's or class's parameters with their declared types (`Any` where none can be
    read), and whether it takes any keyword at all. litgan's own constructors pass `**kwargs`
    to their base class (a model family to `AdversarialModel`), so those are followed up the
    class hierarchy; elsewhere `**kwargs` may go anywhere (Lightning's DDPStrategy hands them
    to DistributedDataParallel) and any key is accepted."""
    if not inspect.isclass(target):
        chain = [(target.__module__, target)]
    else:
        chain = [(c.__module__, c.__dict__["__init__"]) for c in inspect.getmro(target) if "__init__" in c.__dict__]
    parameters: dict[str, Any] = {}
    for module, function in chain:
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError):  # a builtin without a signature: nothing declared to check
            return parameters, True
        try:
            hints = typing.get_type_hints(function)
        except Exception:  # noqa: BLE001 - annotations naming what only type checkers import
            hints = {}
        for name, parameter in signature.parameters.items():
            if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY) and name != "self":
                parameters.setdefault(name, hints.get(name, Any))
        if all(p.kind is not p.VAR_KEYWORD for p in signature.parameters.values()):
            return parameters, False
        if not module.startswith("litgan."):
            return parameters, True
    return parameters, True
