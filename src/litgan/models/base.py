"""What every adversarial model shares: the alternation of critic and generator updates, step
counting, optimisers and schedulers, the Lipschitz constraints, finite checks, checkpoint state,
and randomness that does not depend on the number of processes. Model families derive from
`AdversarialModel` and declare what they can do."""

import enum
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar, NamedTuple, TypedDict

import torch
from lightning import LightningModule
from lightning.pytorch.plugins.precision import MixedPrecision
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor, nn
from torch.optim import Optimizer
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from litgan.data.base import TrainingData
from litgan.losses import AdversarialLoss, clip_weights, gradient_penalty
from litgan.models.cuda_graphs import CapturedCall
from litgan.nets.augment import AugmentedDiscriminator
from litgan.nets.layers import add_spectral_norm
from litgan.nets.roles import GeneratorInput
from litgan.utils.errors import ConfigError, TrainingDiverged
from litgan.utils.random import ShardedGenerator

# torch optimisers with a fused GPU implementation (one kernel updates every tensor), and those with
# a multi-tensor one (one call per operation for all tensors), which on the CPU gives the same numbers
# as their default loop over tensors
FUSED_OPTIMIZERS = (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD)
FOREACH_OPTIMIZERS = (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD, torch.optim.RMSprop)


class Capability(enum.Flag):
    """What a model can do, read by callbacks, `evaluate.py` and `train.py`."""

    NONE = 0
    SAMPLE = enum.auto()  # from noise: `latent_dim`, `sample(z, labels=None)`
    CONDITION = enum.auto()  # on a class: `num_classes`, `balanced_labels(n, device)`
    TRANSLATE = enum.auto()  # images between domains; validation outputs `source` and `reconstructed`
    ENCODE = enum.auto()  # samples to latent codes: `encode(x)`, `reconstruction_errors(x, z)`


class CriticTerms(NamedTuple):
    """One critic update's loss and what is logged of it."""

    loss: Tensor
    # the raw scores of the real and of the generated minibatch, detached; their means are logged,
    # taken only on the steps that log (each reduction is a kernel launch)
    real_scores: Tensor
    fake_scores: Tensor
    penalty: Tensor | None = None  # the gradient penalty, before its weight


class TrainingPasses(NamedTuple):
    """The forward and backward passes of a critic update and of a generator update: the model's
    own methods, or their replays from CUDA graphs (`cuda_graphs`)."""

    critic: Callable[..., CriticTerms]
    generator: Callable[..., Tensor]


class ValidationOutputs(TypedDict, total=False):
    """What `validation_step` returns to the callbacks: `real` always, `fake` where a callback reads
    it (a sampling model's 2-D points: the scatter plot, the mode coverage); translation
    and encoding models add the `source` images and their `reconstructed` round trip and, where
    the data has domain labels, the `target` labels asked for. Floating-point values are float32."""

    real: Tensor
    fake: Tensor
    source: Tensor
    reconstructed: Tensor
    target: Tensor


class AdversarialModel(LightningModule):
    """Alternates `n_critic` critic updates with one generator update (manual optimisation).

    One training step is one generator update: its batch holds `n_critic` minibatches of real
    data, one per critic update, so `trainer.max_steps` and `global_step` count generator
    updates; `critic_updates` counts the others.

    The randomness rule: every random number a model draws while training (noise, penalty
    mixing weights, target labels) comes from `self.random`, never from torch's global
    generator. `self.random` draws the numbers of the global batch and keeps this process's
    share, and its state is in the checkpoint: that is what makes N processes reproduce one
    process and a resumed run reproduce an uninterrupted one.

    A family builds its nets in `__init__`, after this one, and hands them to `set_nets`; it
    implements `critic_loss`, `generator_loss`, `validation_outputs` and `sample_grid`, and
    declares `capabilities`, `trains_on` and the nets it needs (`generator_takes`,
    `discriminator_classifies_domains`).
    """

    capabilities: ClassVar[Capability] = Capability.NONE
    trains_on: ClassVar[TrainingData] = TrainingData.SAMPLES
    # the nets it is built from (`litgan.nets.roles`): what its generator takes, and whether its
    # discriminator also classifies domains
    generator_takes: ClassVar[GeneratorInput] = GeneratorInput.NOISE
    discriminator_classifies_domains: ClassVar[bool] = False
    # whether `augment` (DiffAugment before the discriminator) applies: D takes images (and a class)
    augments_images: ClassVar[bool] = False
    # whether a training pass is tensor work on the device only (random numbers from `self.random`,
    # no host-side state or branches on values), which a CUDA graph can record and replay
    cuda_graph_safe: ClassVar[bool] = False

    def __init__(
        self,
        loss: AdversarialLoss,
        optimizer_g: Callable[..., Optimizer],
        optimizer_d: Callable[..., Optimizer],
        n_critic: int = 1,
        gradient_penalty_weight: float = 0.0,
        weight_clip: float | None = None,
        spectral_norm: bool = False,
        scheduler_g: Callable[..., Any] | None = None,
        scheduler_d: Callable[..., Any] | None = None,
        ema_decay: float | None = None,
        ema_start: int = 0,
        augment: Sequence[str] | None = None,
        compile: bool = False,
        cuda_graphs: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if augment and not self.augments_images:
            raise ConfigError(
                f"model.augment (DiffAugment) needs a discriminator that judges images (with, at most, their class): "
                f"{type(self).__name__}'s does not; leave model.augment=null."
            )
        self.automatic_optimization = False
        self.loss = loss
        self.optimizer_g, self.optimizer_d = optimizer_g, optimizer_d
        self.scheduler_g, self.scheduler_d = scheduler_g, scheduler_d
        self.n_critic = n_critic
        self.gradient_penalty_weight = gradient_penalty_weight
        self.weight_clip = weight_clip
        self.spectral_norm = spectral_norm
        self.ema_decay, self.ema_start = ema_decay, ema_start
        self.augment = augment
        self.compile_nets = compile
        self.cuda_graphs = cuda_graphs
        self.passes = TrainingPasses(self.critic_backward, self.generator_backward)
        # eval.py may measure the raw generator of a model trained with an EMA one
        self.sample_from_ema = True
        self.seed = seed
        self.critic_updates = 0
        self.reported_terms: dict[str, Tensor] = {}
        self._compiled = False
        self._random: ShardedGenerator | None = None
        self._random_state: dict | None = None

    def set_nets(self, generator: nn.Module, discriminator: nn.Module) -> None:
        """Register the two nets (each may be a ModuleDict of several) and constrain the critic."""
        batch_norms = [m for m in discriminator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if self.gradient_penalty_weight and batch_norms:
            raise ConfigError(
                "The gradient penalty is defined per example, but the discriminator uses batch norm, which "
                "mixes the examples of a batch; set architecture.discriminator.norm=layer (or none)."
            )
        self.generator = generator
        if self.spectral_norm:
            discriminator = add_spectral_norm(discriminator)
        if self.augment:
            discriminator = AugmentedDiscriminator(discriminator, self.augment, lambda: self.random)
        self.discriminator = discriminator
        self.generator_ema = None
        if self.ema_decay is not None:
            # the averaging function is set at each update (`update_ema`: the decay warms up)
            self.generator_ema = AveragedModel(generator, use_buffers=True).requires_grad_(False)

    def configure_model(self) -> None:
        """`compile`: torch.compile the generator and, where no gradient penalty needs a second
        derivative (which compiled graphs cannot give), the discriminator; in place, so that
        checkpoints keep their names."""
        if not self.compile_nets or self._compiled:
            return
        self._compiled = True
        for net in nets(self.generator):
            net.compile()
        if self.gradient_penalty_weight:
            rank_zero_info(
                "model.compile: the discriminator stays uncompiled, since torch.compile cannot differentiate it "
                "twice, as the gradient penalty does; the generator is compiled."
            )
        else:
            for net in nets(self.discriminator):
                net.compile()

    @property
    def sampler(self) -> nn.Module:
        """The generator that samples, plots, metrics and eval.py use: the exponential moving
        average of the trained one when `ema_decay` is set (and `sample_from_ema`)."""
        if self.generator_ema is not None and self.sample_from_ema:
            return self.generator_ema.module
        return self.generator

    @torch.no_grad()
    def update_ema(self) -> None:
        """After each generator update: average the weights. For the first `ema_start` steps the
        average is the current generator; after them the decay warms up as TensorFlow's
        ExponentialMovingAverage does, min(ema_decay, (1 + n) / (10 + n)) at the n-th averaged
        step, so that early weights do not linger. Batch-norm statistics are averaged with the
        weights, so that the averaged weights normalise with statistics of the same age."""
        if self.global_step <= self.ema_start:
            self.generator_ema.n_averaged.zero_()  # AveragedModel copies on its first update
        averaged_steps = max(0, self.global_step - max(self.ema_start, 1))  # updates since the last copy
        decay = min(self.ema_decay, (1 + averaged_steps) / (10 + averaged_steps))
        self.generator_ema.multi_avg_fn = get_ema_multi_avg_fn(decay)
        self.generator_ema.update_parameters(self.generator)

    @property
    def random(self) -> ShardedGenerator:
        if self._random is None:
            rank, world = (self.global_rank, self.trainer.world_size) if self._trainer else (0, 1)
            self._random = ShardedGenerator(self.seed, rank, world, self.device)
            if self._random_state is not None:
                self._random.load_state_dict(self._random_state)
        return self._random

    # --- what each family implements ----------------------------------------------------------

    def critic_loss(self, *minibatch: Tensor) -> CriticTerms:
        raise NotImplementedError

    def generator_loss(self, *minibatch: Tensor) -> Tensor:
        raise NotImplementedError

    def validation_outputs(self, batch: tuple[Tensor, ...], batch_idx: int) -> ValidationOutputs:
        raise NotImplementedError

    def sample_grid(self, columns: int) -> Tensor:
        """The images of the sample picture, `columns` per row, in the family's own layout."""
        raise NotImplementedError

    # --- training -------------------------------------------------------------------------------

    def training_step(self, batch: tuple[Tensor, ...]) -> None:
        opt_g, opt_d = self.optimizers()
        minibatches = list(zip(*(tensor.chunk(self.n_critic) for tensor in batch)))  # (x,) or (x, y) each

        with self.toggled_optimizer(opt_d):
            for real in minibatches:
                critic = self.passes.critic(*real)
                self.critic_optimizer_step(opt_d)
                if self.weight_clip is not None:
                    clip_weights(self.discriminator, self.weight_clip)

        with self.toggled_optimizer(opt_g):
            g_loss = self.passes.generator(*minibatches[-1])
            opt_g.step()
        if self.generator_ema is not None:
            self.update_ema()

        schedulers = self.lr_schedulers()  # None, one scheduler, or a list
        for scheduler in schedulers if isinstance(schedulers, list) else [schedulers] if schedulers else []:
            scheduler.step()

        # Lightning writes step values to the loggers every log_every_n_steps steps only; building
        # them in between costs Python time on every step (measured: 12-15 % of a GPU step). The
        # last step's values are kept too: train() returns them.
        if self.global_step % self.trainer.log_every_n_steps != 0 and self.global_step != self.trainer.max_steps:
            return
        self.check_finite(d_loss=critic.loss, g_loss=g_loss)
        metrics = {
            "train/d_loss": critic.loss,
            "train/g_loss": g_loss,
            "train/d_real": critic.real_scores.mean(),
            "train/d_fake": critic.fake_scores.mean(),
            "train/g_step": float(self.global_step),
            "train/d_step": float(self.critic_updates),
        }
        if critic.penalty is not None:
            metrics["train/gp"] = critic.penalty
        self.log_dict(metrics | self.reported_terms)

    # --- validation ------------------------------------------------------------------------------

    def validation_step(self, batch: tuple[Tensor, ...], batch_idx: int = 0) -> ValidationOutputs:
        """The family's `validation_outputs`, computed at full precision whatever the training
        precision (README, "Mixed precision"), so that the metrics and plots see what `eval.py` sees."""
        with torch.autocast(self.device.type, enabled=False):
            outputs = self.validation_outputs(batch, batch_idx)
        return {name: value.float() if value.is_floating_point() else value for name, value in outputs.items()}

    def critic_backward(self, *real: Tensor) -> CriticTerms:
        """One critic update's loss, and its gradients in the discriminator's `.grad`."""
        critic = self.critic_loss(*real)
        self.discriminator.zero_grad(set_to_none=True)
        self.manual_backward(critic.loss)
        return critic

    def generator_backward(self, *real: Tensor) -> Tensor:
        """The generator update's loss, and its gradients in the generator's `.grad`."""
        g_loss = self.generator_loss(*real)
        self.generator.zero_grad(set_to_none=True)
        self.manual_backward(g_loss)
        return g_loss

    def on_train_start(self) -> None:
        self.apply_optimizer_settings()
        if not self.cuda_graphs:
            return
        obstacle = self.cuda_graph_obstacle()
        if obstacle:
            rank_zero_info(f"model.cuda_graphs: {obstacle}; training without CUDA graphs.")
            return
        generators = [self.random.generator]
        self.passes = TrainingPasses(
            CapturedCall(self.critic_backward, generators), CapturedCall(self.generator_backward, generators)
        )

    def cuda_graph_obstacle(self) -> str | None:
        """Why this run cannot replay its passes from CUDA graphs, if it cannot."""
        if not self.cuda_graph_safe:
            return f"{type(self).__name__}'s training passes keep state on the host, which a graph cannot replay"
        if self.compile_nets:
            return "model.compile and model.cuda_graphs are two ways to the same end; choose one"
        if self.trainer.precision != "32-true":
            return f"graphs are recorded at 32-bit precision only, and this run uses {self.trainer.precision}"
        if self.trainer.world_size > 1:
            return "the gradient all-reduce of distributed training is not recorded in a graph"
        if self.device.type != "cuda":
            return f"CUDA graphs need a CUDA device, and this run trains on {self.device.type}"
        return None

    def report(self, **terms: Tensor) -> None:
        """A family's own loss terms (e.g. the cycle loss), logged as train/<name> with the step's
        losses; the last value of a step is kept."""
        self.reported_terms.update({f"train/{name}": value.detach() for name, value in terms.items()})

    def gradient_scaler(self) -> torch.amp.GradScaler | None:
        """The loss scaler of fp16 mixed precision; None under any other precision."""
        precision = self.trainer.precision_plugin if self._trainer else None
        scaler = precision.scaler if isinstance(precision, MixedPrecision) else None
        return scaler if scaler is not None and scaler.is_enabled() else None

    def penalty(self, critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor) -> Tensor:
        """The gradient penalty between `real` and `fake` (mixing weights from `self.random`),
        with the gradient scaler's scale under fp16 mixed precision."""
        scaler = self.gradient_scaler()
        # the scale stays a device tensor: reading it as a number (get_scale) waits for the device
        scale = scaler.scale(torch.ones((), device=real.device)) if scaler is not None else None
        return gradient_penalty(critic, real, fake, self.random.rand(len(real)), loss_scale=scale)

    def check_finite(self, **losses: Tensor) -> None:
        """Called every `log_every_n_steps` steps only: each call waits for the device. Under fp16
        a non-finite loss is how the gradient scaler learns that its scale is too large: it skips
        that update and halves the scale. Only once the scale has fallen below 1 has every update
        for a while been skipped, and the run has diverged."""
        bad = {name: value.item() for name, value in losses.items() if not torch.isfinite(value)}
        scaler = self.gradient_scaler()
        if bad and (scaler is None or scaler.get_scale() < 1.0):
            raise TrainingDiverged(
                f"Training diverged: {bad} at generator step {self.global_step}; the checkpoints saved so far are "
                "kept. Lower the learning rate or check the loss/penalty settings."
            )

    def critic_optimizer_step(self, optimizer: Any) -> None:
        # Lightning counts every LightningOptimizer.step() as a global step, but global_step is
        # meant to count generator updates; the strategy call still applies precision plugins.
        self.trainer.strategy.optimizer_step(optimizer.optimizer, closure=lambda: None)
        self.critic_updates += 1

    # --- optimisers and checkpoints -------------------------------------------------------------

    def configure_optimizers(self) -> Any:
        optimizers = [
            self.make_optimizer(self.optimizer_g, self.generator.parameters()),
            self.make_optimizer(self.optimizer_d, self.discriminator.parameters()),
        ]
        schedulers = [make(opt) for make, opt in zip((self.scheduler_g, self.scheduler_d), optimizers) if make]
        return optimizers, schedulers

    def make_optimizer(self, make: Callable[..., Optimizer], parameters: Iterator[nn.Parameter]) -> Optimizer:
        """On a GPU, torch's Adam, AdamW and SGD update all tensors in one fused kernel; elsewhere
        they, and RMSprop, use their multi-tensor implementation, whose numbers on the CPU are those
        of the default loop over tensors. A config that sets `fused` or `foreach` is obeyed."""
        if not isinstance(make, functools.partial) or {"fused", "foreach"} & make.keywords.keys():
            return make(parameters)
        if make.func in FUSED_OPTIMIZERS and self.device.type == "cuda":
            return make(parameters, fused=True)
        if make.func in FOREACH_OPTIMIZERS:
            return make(parameters, foreach=True)
        return make(parameters)

    def apply_optimizer_settings(self) -> None:
        """A run resumed with other optimiser settings (`allow_resume_changes`) trains with them,
        where the restored optimiser state would keep the checkpoint's. A new learning rate keeps
        the schedule's progress: it replaces the base rate that a scheduler scales."""
        schedulers = self.lr_schedulers()
        schedulers = schedulers if isinstance(schedulers, list) else [schedulers] if schedulers else []
        optimizers = self.optimizers(use_pl_optimizer=False)
        for role, optimizer, make in zip(
            ("optimizer_g", "optimizer_d"), optimizers, (self.optimizer_g, self.optimizer_d)
        ):
            settings = make.keywords if isinstance(make, functools.partial) else {}
            for group in optimizer.param_groups:
                for key, value in settings.items():
                    value = tuple(value) if isinstance(value, Sequence) and not isinstance(value, str) else value
                    if key == "lr" and group.get("initial_lr", group["lr"]) != value:
                        base = group.get("initial_lr", group["lr"])
                        rank_zero_info(f"model.{role}.lr: {base:g} in the checkpoint, {value:g} from now on.")
                        group["lr"] = value if group["lr"] == base else group["lr"] * value / base
                        if "initial_lr" in group:
                            group["initial_lr"] = value
                    elif key != "lr" and key in group and group[key] != value:
                        rank_zero_info(f"model.{role}.{key}: {group[key]} in the checkpoint, {value} from now on.")
                        group[key] = value
            for scheduler in schedulers:
                if scheduler.optimizer is optimizer:
                    scheduler.base_lrs = [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        bad = [name for name, p in self.named_parameters() if not torch.isfinite(p).all()]
        if bad:
            raise TrainingDiverged(
                f"Training diverged: {len(bad)} parameter tensors (first: {bad[0]}) hold NaN or inf at generator "
                f"step {self.global_step}; not saving this checkpoint, earlier checkpoints are kept. "
                "Lower the learning rate or check the loss/penalty settings."
            )
        checkpoint["litgan"] = {
            "random": self.random.state_dict(),
            "critic_updates": self.critic_updates,
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint["litgan"]
        self.critic_updates = state["critic_updates"]
        self._random, self._random_state = None, state["random"]


def nets(module: nn.Module) -> list[nn.Module]:
    """The nets a generator or discriminator slot holds: itself, or each entry of a ModuleDict
    (CycleGAN's two directions, BiGAN's decoder and encoder)."""
    return list(module.values()) if isinstance(module, nn.ModuleDict) else [module]
