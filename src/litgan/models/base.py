"""What every adversarial model shares: the alternation of critic and generator updates, step
counting, optimisers and schedulers, the Lipschitz constraints, checkpoint state, and randomness
that does not depend on the number of processes. Model families derive from `AdversarialModel`
and declare what they can do. EMA, precision and speed live beside it (`ema`, `precision`,
`optimizers`, `compiled`, `cuda_graphs`)."""

import abc
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

import torch
from lightning import LightningModule
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor, nn
from torch.optim import Optimizer

from litgan.data.base import TrainingData
from litgan.losses import AdversarialLoss, LeCamAnchors, clip_weights, gradient_penalty, r1_penalty
from litgan.models.compiled import compile_nets
from litgan.models.contract import CAPABILITY_METHODS, Capability, CriticTerms, SampleGrid, ValidationOutputs
from litgan.models.cuda_graphs import CapturedCall, graph_obstacle
from litgan.models.ema import averaged_copy, update_average
from litgan.models.optimizers import apply_settings, make_optimizer
from litgan.models.precision import check_finite, gradient_scaler, loss_scale
from litgan.nets.augment import AugmentedDiscriminator
from litgan.nets.layers import add_spectral_norm
from litgan.nets.roles import GeneratorInput
from litgan.utils.errors import ConfigError, TrainingDiverged
from litgan.utils.metric_names import has_best, higher_is_better, logged_names
from litgan.utils.random import ShardedGenerator


class TrainingPasses(NamedTuple):
    """The forward and backward passes of a critic update and of a generator update: the model's
    own methods, or their replays from CUDA graphs (`cuda_graphs`)."""

    critic: Callable[..., CriticTerms]
    generator: Callable[..., Tensor]


class AdversarialModel(LightningModule, abc.ABC):
    """Alternates `n_critic` critic updates with one generator update (manual optimisation).

    One training step is one generator update: its batch holds `n_critic` minibatches of real
    data, one per critic update, so `trainer.max_steps` and `global_step` count generator
    updates; `critic_updates` counts the others.

    The randomness rule: every random number a model draws while training (noise, penalty
    mixing weights, target labels) comes from `self.random`, never from torch's global
    generator. `self.random` draws the numbers of the global batch and keeps this process's
    share, and its state is in the checkpoint: that is what makes N processes reproduce one
    process and a resumed run reproduce an uninterrupted one. Validation draws from
    `self.validation_random`, which starts afresh at every validation.

    A family builds its nets in `__init__`, after this one, and hands them to `set_nets`; it
    implements the abstract methods, and declares `capabilities`, `trains_on` and the nets it
    needs (`generator_takes`, `discriminator_classifies_domains`).
    """

    capabilities: ClassVar[Capability] = Capability.NONE
    trains_on: ClassVar[TrainingData] = TrainingData.SAMPLES
    # the nets it is built from (`litgan.nets.roles`): what its generator takes, and whether its
    # discriminator also classifies domains
    generator_takes: ClassVar[GeneratorInput] = GeneratorInput.NOISE
    discriminator_classifies_domains: ClassVar[bool] = False
    # whether `augment` (DiffAugment before the discriminator) applies: D takes images (and a class)
    augments_images: ClassVar[bool] = False
    # whether the critic's loss is the loss's critic term on D's scores (`critic_terms`), which the
    # gradient penalty, R1 and LeCam regularise; CycleGAN's two discriminators have their own
    critic_regularised: ClassVar[bool] = True
    # whether a training pass is tensor work on the device only (random numbers from `self.random`,
    # no host-side state or branches on values), which a CUDA graph can record and replay
    cuda_graph_safe: ClassVar[bool] = False
    # the nets each of the two optimisers trains, as their logged series are named (`lr/generator`)
    optimizer_roles: ClassVar[tuple[str, str]] = ("generator", "discriminator")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        missing = sorted(
            {
                name
                for capability, names in CAPABILITY_METHODS.items()
                if capability in cls.capabilities
                for name in names
                if not callable(getattr(cls, name, None))
            }
        )
        if missing:
            raise TypeError(f"{cls.__name__} declares {cls.capabilities} but has no {', '.join(missing)}.")

    def __init__(
        self,
        loss: AdversarialLoss,
        optimizer_g: Callable[..., Optimizer],
        optimizer_d: Callable[..., Optimizer],
        n_critic: int = 1,
        gradient_penalty_weight: float = 0.0,
        r1_gamma: float = 0.0,
        r1_every: int = 1,
        lecam_weight: float = 0.0,
        lecam_decay: float = 0.99,
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
        if (gradient_penalty_weight or r1_gamma or lecam_weight) and not self.critic_regularised:
            raise ConfigError(
                f"{type(self).__name__}'s discriminators have a loss of their own, which takes no gradient penalty, R1 "
                "or LeCam: leave model.gradient_penalty_weight, model.r1_gamma and model.lecam_weight at 0."
            )
        self.automatic_optimization = False
        self.loss = loss
        self.optimizer_g, self.optimizer_d = optimizer_g, optimizer_d
        self.scheduler_g, self.scheduler_d = scheduler_g, scheduler_d
        self.n_critic = n_critic
        self.gradient_penalty_weight = gradient_penalty_weight
        # R1 (Mescheder et al. 2018): gamma/2 E||grad D(real)||^2, applied lazily every r1_every critic
        # updates and then scaled by r1_every (Karras et al. 2020, StyleGAN2)
        self.r1_gamma, self.r1_every = r1_gamma, r1_every
        self.lecam_weight = lecam_weight
        self.lecam = LeCamAnchors(lecam_decay) if lecam_weight else None
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
        self.validation_random: ShardedGenerator | None = None
        self.best_values: dict[str, float] = {}  # of the validation metrics, by logged name

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
        self.generator_ema = averaged_copy(generator) if self.ema_decay is not None else None

    def configure_model(self) -> None:
        if self.compile_nets and not self._compiled:
            self._compiled = True
            compile_nets(self.generator, self.discriminator, differentiated_twice=bool(self.gradient_penalty_weight))

    @property
    def sampler(self) -> nn.Module:
        """The generator that samples, plots, metrics and eval.py use: the exponential moving
        average of the trained one when `ema_decay` is set (and `sample_from_ema`)."""
        if self.generator_ema is not None and self.sample_from_ema:
            return self.generator_ema.module
        return self.generator

    @property
    def random(self) -> ShardedGenerator:
        if self._random is None:
            rank, world = (self.global_rank, self.trainer.world_size) if self._trainer else (0, 1)
            self._random = ShardedGenerator(self.seed, rank, world, self.device)
            if self._random_state is not None:
                self._random.load_state_dict(self._random_state)
        return self._random

    # --- what each family implements ----------------------------------------------------------

    @abc.abstractmethod
    def critic_loss(self, *minibatch: Tensor) -> CriticTerms:
        """One critic update's loss on a minibatch of real data (and its labels)."""

    @abc.abstractmethod
    def generator_loss(self, *minibatch: Tensor) -> Tensor:
        """The generator update's loss; the minibatch is the last critic update's."""

    @abc.abstractmethod
    def validation_outputs(self, batch: tuple[Tensor, ...], batch_idx: int) -> ValidationOutputs:
        """What the callbacks read of one validation batch (`ValidationOutputs`)."""

    @abc.abstractmethod
    def sample_grid(self, batch: tuple[Tensor, ...], columns: int) -> SampleGrid:
        """The sample picture, `columns` images per row, in the family's own layout, with what each
        row shows; `batch` is a validation batch, the inputs of the families that translate or encode."""

    # --- what the families share ----------------------------------------------------------------

    def critic_terms(
        self, real_scores: Tensor, fake_scores: Tensor, critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor
    ) -> CriticTerms:
        """The loss's critic term on these scores, plus the regularisers that are weighted: the
        gradient penalty of `critic` between `real` and `fake` (mixing weights from `self.random`),
        R1 on `real` (on its critic updates), LeCam on the scores. The penalties are scaled with the
        loss under fp16 mixed precision."""
        loss = self.loss.discriminator(real_scores, fake_scores)
        r1_now = bool(self.r1_gamma) and self.critic_updates % self.r1_every == 0
        penalised = bool(self.gradient_penalty_weight) or r1_now
        scale = loss_scale(gradient_scaler(self._trainer), real.device) if penalised else None
        penalty = r1 = lecam = None
        if self.gradient_penalty_weight:
            penalty = gradient_penalty(critic, real, fake, self.random.rand(len(real)), loss_scale=scale)
            loss = loss + self.gradient_penalty_weight * penalty
        if r1_now:
            r1 = r1_penalty(critic, real, loss_scale=scale)
            loss = loss + self.r1_gamma / 2 * self.r1_every * r1
        if self.lecam is not None:
            means = self.all_processes_mean(torch.stack([real_scores.detach().mean(), fake_scores.detach().mean()]))
            lecam = self.lecam(real_scores, fake_scores, means[0], means[1])
            loss = loss + self.lecam_weight * lecam
        return CriticTerms(loss, real_scores.detach(), fake_scores.detach(), penalty, r1, lecam)

    def all_processes_mean(self, value: Tensor) -> Tensor:
        """The mean over the processes of a DDP run (each holds an equal share of the global batch)."""
        world = self.trainer.world_size if self._trainer else 1
        return self.trainer.strategy.reduce(value, reduce_op="mean") if world > 1 else value

    def fixed_noise(self, n: int, dim: int) -> Tensor:
        """The same `n` latent points at every call: successive pictures show how they move."""
        seeded = torch.Generator(self.device).manual_seed(0)
        return torch.randn(n, dim, generator=seeded, device=self.device, dtype=self.dtype)

    def report(self, **terms: Tensor) -> None:
        """A family's own loss terms (e.g. the cycle loss), logged as train/<name> with the step's
        losses; the last value of a step is kept."""
        self.reported_terms.update({f"train/{name}": value.detach() for name, value in terms.items()})

    # --- training -------------------------------------------------------------------------------

    def training_step(self, batch: tuple[Tensor, ...]) -> None:
        opt_g, opt_d = self.optimizers()
        self.reported_terms = {}  # a term a family computes on some steps only is logged on those
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
            update_average(self.generator_ema, self.generator, self.global_step, self.ema_decay, self.ema_start)

        for scheduler in self.schedulers():
            scheduler.step()

        # Lightning writes step values to the loggers every log_every_n_steps steps only; building
        # them in between costs Python time on every step (measured: 12-15 % of a GPU step). The
        # last step's values are kept too: train() returns them.
        if self.global_step % self.trainer.log_every_n_steps != 0 and self.global_step != self.trainer.max_steps:
            return
        losses = {"d_loss": critic.loss, "g_loss": g_loss}
        check_finite(losses, gradient_scaler(self._trainer), self.global_step)
        metrics = {
            "train/d_loss": critic.loss,
            "train/g_loss": g_loss,
            "train/d_real": critic.real_scores.mean(),
            "train/d_fake": critic.fake_scores.mean(),
            "train/g_step": float(self.global_step),
            "train/d_step": float(self.critic_updates),
            "step": float(self.global_step),  # every logger's x axis: generator steps, as the checkpoints say
        }
        for name, term in (("gp", critic.penalty), ("r1", critic.r1), ("lecam", critic.lecam)):
            if term is not None:
                metrics[f"train/{name}"] = term
        self.log_dict(metrics | self.reported_terms)

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

    def critic_optimizer_step(self, optimizer: Any) -> None:
        # Lightning counts every LightningOptimizer.step() as a global step, but global_step is
        # meant to count generator updates; the strategy call still applies precision plugins.
        self.trainer.strategy.optimizer_step(optimizer.optimizer, closure=lambda: None)
        self.critic_updates += 1

    def on_train_start(self) -> None:
        optimizers = self.optimizers(use_pl_optimizer=False)
        for role, optimizer, make in zip(
            ("optimizer_g", "optimizer_d"), optimizers, (self.optimizer_g, self.optimizer_d)
        ):
            apply_settings(role, optimizer, make, self.schedulers())
        if not self.cuda_graphs:
            return
        lazy_r1 = bool(self.r1_gamma) and self.r1_every > 1  # which updates apply R1 is decided on the host
        obstacle = graph_obstacle(
            type(self).__name__,
            self.cuda_graph_safe and not lazy_r1,
            self.compile_nets,
            self.trainer.precision,
            self.trainer.world_size,
            self.device,
        )
        if obstacle:
            rank_zero_info(f"model.cuda_graphs: {obstacle}; training without CUDA graphs.")
            return
        generators = [self.random.generator]
        self.passes = TrainingPasses(
            CapturedCall(self.critic_backward, generators), CapturedCall(self.generator_backward, generators)
        )

    # --- validation ------------------------------------------------------------------------------

    def on_validation_epoch_start(self) -> None:
        world = self.trainer.world_size if self._trainer else 1
        self.validation_random = ShardedGenerator(self.seed + 1, self.global_rank, world, self.device)

    def log_validation(self, values: Mapping[str, Tensor | float], prog_bar: Sequence[str] = ()) -> None:
        """Log one validation's values, computed over all processes (bare names: `fid`), as
        `val/<name>`, each with the best so far as `val/<name>_best`."""
        self.log("step", float(self.global_step))  # the step of this validation in every logger
        for name, value in logged_names(values).items():
            self.log(name, value, prog_bar=name.removeprefix("val/") in prog_bar)
            if has_best(name) and not self.trainer.sanity_checking:
                value = float(value)
                better = max if higher_is_better(name) else min
                self.best_values[name] = better(value, self.best_values.get(name, value))
                self.log(f"{name}_best", self.best_values[name])

    def validation_step(self, batch: tuple[Tensor, ...], batch_idx: int = 0) -> ValidationOutputs:
        """The family's `validation_outputs`, computed at full precision whatever the training
        precision (README, "Mixed precision"), so that the metrics and plots see what `eval.py` sees."""
        with torch.autocast(self.device.type, enabled=False):
            outputs = self.validation_outputs(batch, batch_idx)
        return {name: value.float() if value.is_floating_point() else value for name, value in outputs.items()}

    # --- optimisers and checkpoints -------------------------------------------------------------

    def configure_optimizers(self) -> Any:
        optimizers = [
            make_optimizer(self.optimizer_g, self.generator.parameters(), self.device),
            make_optimizer(self.optimizer_d, self.discriminator.parameters(), self.device),
        ]
        schedulers = [make(opt) for make, opt in zip((self.scheduler_g, self.scheduler_d), optimizers) if make]
        return optimizers, schedulers

    def schedulers(self) -> list[Any]:
        """The learning-rate schedulers, as a list (Lightning gives None, one, or a list)."""
        schedulers = self.lr_schedulers()
        return schedulers if isinstance(schedulers, list) else [schedulers] if schedulers else []

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
            "best_values": self.best_values,
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint["litgan"]
        self.critic_updates = state["critic_updates"]
        self.best_values = state.get("best_values", {})  # none in checkpoints from before they were kept
        self._random, self._random_state = None, state["random"]
