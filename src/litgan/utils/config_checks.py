"""Start-up checks of a composed config, so that a typo costs one sentence, not a run.

Every value given to a constructor (a `_target_` entry) must fit the type the constructor's
signature declares and be one of its parameters; the values users set most must also lie in the
range `RANGES` gives their name, whichever class takes them. Top-level options that no
constructor takes are declared by the entry point (`TRAIN_OPTIONS`, `EVAL_OPTIONS`)."""

import functools
import inspect
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import hydra
import torch
from lightning.pytorch.accelerators import AcceleratorRegistry
from omegaconf import DictConfig, ListConfig, OmegaConf
from pydantic import ConfigDict, TypeAdapter, ValidationError

from litgan.utils.errors import ConfigError


class Bound(typing.NamedTuple):
    minimum: float
    inclusive: bool = True
    below: float | None = None  # an exclusive upper bound, where there is one

    def holds(self, value: float) -> bool:
        above = value >= self.minimum if self.inclusive else value > self.minimum
        return above and (self.below is None or value < self.below)

    def __str__(self) -> str:
        lower = f"{'≥' if self.inclusive else '>'} {number(self.minimum)}"
        return lower if self.below is None else f"{lower} and < {number(self.below)}"


def number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


RANGES: dict[str, Bound] = {
    "seed": Bound(0, below=2**32),  # numpy's seeds
    "max_steps": Bound(-1),  # Lightning's -1: no limit
    "batch_size": Bound(1),
    "val_batch_size": Bound(1),
    "n_critic": Bound(1),
    "lr": Bound(0, inclusive=False),
    "gradient_penalty_weight": Bound(0),
    "r1_gamma": Bound(0),
    "r1_every": Bound(1),
    "lecam_weight": Bound(0),
    "lecam_decay": Bound(0, inclusive=False, below=1),
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
    "val_every": Bound(2),  # every N-th image is held out: 1 would hold out all of them
}


class EntryOptions(typing.NamedTuple):
    """What an entry point's config may hold at its top level: options with their types, and
    config groups (checked through their `_target_` entries). Any other key is refused: nothing
    would read it."""

    values: Mapping[str, Any]
    groups: frozenset[str]


TRAIN_OPTIONS = EntryOptions(
    values={
        "task_name": str,
        "tags": list[str],
        "seed": int,  # every run is seeded: the processes of a DDP run share its numbers, checkpoints keep them
        "ckpt_path": str | None,
        "auto_resume": bool,
        "allow_resume_changes": bool,
        "optimized_metric": str | None,
        "optimized_metric_mode": Literal["min", "max"],
        "cpu_threads": int | None,
    },
    groups=frozenset({"data", "architecture", "loss", "model", "trainer", "callbacks", "metrics", "logger", "paths"}),
)

EVAL_OPTIONS = EntryOptions(
    values={
        "task_name": str,
        "ckpt_path": str | None,
        "images_dir": str | None,
        "num_samples": int,
        "seed": int,
        "batch_size": int,
        "device": str,
        "grid_rows": int,
        "ema": bool,
        "optimized_metric": str | None,  # set by the metrics configs for training; eval.py reports every metric
    },
    # `trainer`: the metrics configs set training's validation interval, which eval.py does not read
    groups=frozenset({"data", "metrics", "paths", "trainer"}),
)


def check_config(cfg: DictConfig, options: EntryOptions) -> None:
    """Raise a `ConfigError` listing every value of `cfg` that does not fit its declaration."""
    problems = [
        problem
        for key, kind in options.values.items()
        if key in cfg
        for problem in check_value(key, plain(cfg[key]), kind)
    ]
    problems += [
        unread_key(cfg, key) for key in cfg if key != "hydra" and key not in {*options.values, *options.groups}
    ]
    problems += [problem for key in cfg if key in options.groups for problem in walk(key, cfg, key)]
    if problems:
        raise ConfigError("Invalid config: " + "; ".join(problems) + ".")


def unread_key(cfg: DictConfig, key: str) -> str:
    """A top-level key that nothing reads, with the keys of that name the config does have."""
    namesakes = [path for path in nested_keys(cfg) if path.endswith(f".{key}")]
    hint = f" (did you mean {' or '.join(namesakes)}?)" if namesakes else ""
    return f"{key} is not an option of this program{hint}"


def nested_keys(node: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(node, DictConfig):
        for key in node:
            if key == "hydra" or OmegaConf.is_missing(node, key):
                continue
            path = f"{prefix}.{key}" if prefix else str(key)
            if prefix:
                yield path
            yield from nested_keys(node._get_node(key), path)


def require_available_device(key: str, device: Any, alternative: str) -> None:
    """An accelerator (`trainer.accelerator`: auto, cpu, gpu, cuda, mps, tpu) or torch device
    (`cuda:1`) that this machine does not have, or that is no such thing, refused with the way out."""
    if not isinstance(device, str) or device == "auto":
        return  # an Accelerator object, or Lightning's choice
    kind = device.split(":")[0]
    known = sorted({"auto", "gpu", *AcceleratorRegistry.available_accelerators()})
    if kind not in known:
        raise ConfigError(f"{key}={device} is not a device PyTorch Lightning knows: use one of {', '.join(known)}.")
    if kind == "gpu":
        available = torch.cuda.is_available() or torch.backends.mps.is_available()
    else:
        available = AcceleratorRegistry[kind]["accelerator"].is_available()
    if not available:
        what = "CUDA GPU" if kind in {"gpu", "cuda"} else kind.upper()
        raise ConfigError(f"{key}={device}, but PyTorch finds no {what} on this machine: use {alternative}.")


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
            # pydantic takes 64.0 for an int, which torch and Lightning then refuse mid-run
            fits = accepts(kind, value) and not (isinstance(value, float) and not accepts(kind, 0.5))
        except Exception:  # noqa: BLE001 - a type pydantic cannot express: left to the constructor
            fits = True
        if not fits:
            yield f"{path}={value!r} is not {describe(kind)}" + (f" (as {owner} declares)" if owner else "")
            return
    bound = RANGES.get(path.rsplit(".", 1)[-1])
    if bound and isinstance(value, int | float) and not isinstance(value, bool) and not bound.holds(value):
        yield f"{path}={value!r} must be {bound}"


def accepts(kind: Any, value: Any) -> bool:
    try:
        type_adapter(kind).validate_python(value)
    except ValidationError:
        return False
    return True


@functools.cache
def type_adapter(kind: Any) -> TypeAdapter:
    return TypeAdapter(kind, config=ConfigDict(arbitrary_types_allowed=True))


def describe(kind: Any) -> str:
    choices = literal_choices(kind)
    if choices is not None:
        return "one of " + ", ".join(map(repr, choices))
    return "of type " + (kind.__name__ if isinstance(kind, type) else str(kind).replace("typing.", ""))


def literal_choices(kind: Any) -> list[Any] | None:
    """The values a Literal, or a union of Literals (and None), allows; None for any other type."""
    if typing.get_origin(kind) is Literal:
        return list(typing.get_args(kind))
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        parts = [literal_choices(arg) if arg is not type(None) else [None] for arg in typing.get_args(kind)]
        return None if any(part is None for part in parts) else [value for part in parts for value in part]
    return None


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
