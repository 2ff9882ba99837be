"""Replaying a training pass from a CUDA graph: the kernels of one call are recorded once and
then launched together, without the Python and per-kernel launch cost that leaves a GPU idle
when the nets are small (PyTorch, "CUDA Graphs": whole-network capture)."""

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import torch
from torch import Tensor

from litgan.utils.errors import ConfigError

Outputs = TypeVar("Outputs")


class CapturedCall(Generic[Outputs]):
    """Calls `function(*inputs)` eagerly `warmup` times, on a side stream as capture requires
    (lazy initialisations must not happen while recording); then records one call as a CUDA
    graph and, from then on, copies each call's inputs into the recorded ones and replays.

    What the function may do is what a graph can replay: tensor operations on the device, with
    inputs of fixed shapes, random numbers from the `generators` (registered with the graph, so
    that every replay draws fresh numbers and advances them as eager calls would). Python-side
    effects (counters, host random numbers, branches on values) happen once, while recording.
    The outputs are the recorded tensors: each replay overwrites them, and so does it overwrite
    the gradients the function leaves in `.grad`, which must therefore not be set to None in
    between (optimiser steps read them where they are).
    """

    def __init__(
        self,
        function: Callable[..., Outputs],
        generators: Sequence[torch.Generator],
        warmup: int = 3,
    ) -> None:
        self.function, self.generators, self.warmup = function, generators, warmup
        self.calls = 0
        self.graph: torch.cuda.CUDAGraph | None = None
        self.static_inputs: tuple[Tensor, ...] = ()
        self.static_outputs: Outputs | None = None

    def __call__(self, *inputs: Tensor) -> Outputs:
        self.calls += 1
        if self.calls <= self.warmup:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                outputs = self.function(*inputs)
            torch.cuda.current_stream().wait_stream(side)
            return outputs
        if self.graph is None:
            self.record(inputs)
        elif [t.shape for t in inputs] != [t.shape for t in self.static_inputs]:
            raise ConfigError(
                f"model.cuda_graphs recorded a training pass on inputs of shapes "
                f"{[tuple(t.shape) for t in self.static_inputs]} and now gets {[tuple(t.shape) for t in inputs]}: "
                "a graph replays fixed shapes, so every training batch must have the same size (drop the last, "
                "partial batch), or set model.cuda_graphs=false."
            )
        else:
            for static, tensor in zip(self.static_inputs, inputs):
                static.copy_(tensor)
        self.graph.replay()
        return self.static_outputs

    def record(self, inputs: Sequence[Tensor]) -> None:
        """Recording launches nothing: the call that records is then replayed like the others."""
        self.static_inputs = tuple(tensor.clone() for tensor in inputs)
        self.graph = torch.cuda.CUDAGraph()
        for generator in self.generators:
            self.graph.register_generator_state(generator)
        with torch.cuda.graph(self.graph):
            self.static_outputs = self.function(*self.static_inputs)


def graph_obstacle(
    model_name: str, graph_safe: bool, compiled: bool, precision: str, world_size: int, device: torch.device
) -> str | None:
    """Why a run cannot replay its training passes from CUDA graphs, if it cannot."""
    if not graph_safe:
        return f"{model_name}'s training passes keep state on the host, which a graph cannot replay"
    if compiled:
        return "model.compile and model.cuda_graphs are two ways to the same end; choose one"
    if precision != "32-true":
        return f"graphs are recorded at 32-bit precision only, and this run uses {precision}"
    if world_size > 1:
        return "the gradient all-reduce of distributed training is not recorded in a graph"
    if device.type != "cuda":
        return f"CUDA graphs need a CUDA device, and this run trains on {device.type}"
    return None
