"""Every combination of the config groups composes, and either trains or is refused clearly."""

import itertools
from pathlib import Path

import pytest
from hydra.utils import get_class, instantiate

from litgan.models.build import build_model
from litgan.train import train
from litgan.utils.config_checks import TRAIN_OPTIONS, check_config
from litgan.utils.errors import UserError
from tests.helpers import CONFIG_DIR, fit_model, offline_runs, tiny_overrides

MODELS = sorted(
    p.stem for p in Path(CONFIG_DIR, "model").glob("*.yaml") if not p.stem.startswith("_")
)  # _shared: a block
LOSSES = sorted(p.stem for p in Path(CONFIG_DIR, "loss").glob("*.yaml"))
# the generative architectures; the translation ones are tested with their models
ARCHITECTURES = ["mlp", "dcgan", "resnet", "stylegan2"]
EMBEDDED_DATA = ["ring", "grid", "swissroll", "digits", "shapes"]
SMALL = {"shapes": ["data.num_samples=512", "data.num_val_samples=64"]}  # fewer generated scenes: speed
FILE_DATA = ["mnist", "fashion_mnist", "cifar10", "image_folder", "unpaired_folder", "celeba"]
POINT_DATA = {"ring", "grid", "swissroll"}
TRANSLATION_MODELS = {"cyclegan": "two unpaired image domains", "stargan": "images labelled with attribute domains"}


def test_the_groups_are_all_there():
    assert {"gan", "wgan", "wgan_gp", "cgan"} <= set(MODELS)
    assert set(LOSSES) == {"minimax", "non_saturating", "wasserstein", "hinge", "least_squares"}
    assert {p.stem for p in Path(CONFIG_DIR, "architecture").glob("*.yaml")} == {
        "mlp",
        "dcgan",
        "resnet",
        "resnet_patchgan",
        "stargan",
        "stylegan2",
    }


def test_every_config_file_says_what_it_is_for():
    for path in Path(CONFIG_DIR).rglob("*.yaml"):
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        comment = [line for line in lines[:3] if line.startswith("#") and "@package" not in line]
        assert comment, f"{path} lacks a one-line comment saying what it is for"


# the architectures each family's nets come from; every other one is refused, naming these
FITTING_ARCHITECTURES = {"cyclegan": ["resnet_patchgan"], "stargan": ["stargan"], "stylegan2": ["stylegan2"]}
NOISE_ARCHITECTURES = ["dcgan", "mlp", "resnet"]
OWN_DATA = {"cyclegan": "unpaired_shapes", "stargan": "shape_domains"}


# Every pair of choices meets at least once: every model with every architecture and dataset (in
# its preset's loss), and every model with every loss on each architecture's own data. The full
# product (10 models x 5 losses x 4 architectures x 5 datasets) would add nothing a pair misses:
# a loss only sees the discriminator's scores.
COMBINATIONS = sorted(
    {(model, "preset", architecture, data) for model, architecture, data in itertools.product(MODELS, ARCHITECTURES, EMBEDDED_DATA)}
    | {(model, loss, architecture, data) for model, loss in itertools.product(MODELS, LOSSES)
       for architecture, data in (("mlp", "ring"), ("dcgan", "digits"), ("stylegan2", "digits"))}
)  # fmt: skip


@pytest.mark.parametrize("model,loss,architecture,data", COMBINATIONS)
def test_every_combination_trains_a_few_steps_or_is_refused_in_one_sentence(
    compose_config, model, loss, architecture, data
):
    chosen_loss = [] if loss == "preset" else [f"loss={loss}"]
    cfg = compose_config(
        [f"model={model}", *chosen_loss, f"data={data}", *SMALL.get(data, []), *tiny_overrides(architecture)]
    )
    if chosen_loss:
        assert cfg.loss._target_.lower().endswith(loss.replace("_", "") + "loss")
    if architecture in FITTING_ARCHITECTURES.get(model, NOISE_ARCHITECTURES):
        check_config(cfg, TRAIN_OPTIONS)  # the start-up checks accept every combination that fits
    datamodule = instantiate(cfg.data)
    if architecture not in FITTING_ARCHITECTURES.get(model, NOISE_ARCHITECTURES):
        with pytest.raises(ValueError, match="needs a generator that takes"):
            build_model(cfg, datamodule)
        return
    if model == "cgan" and data in POINT_DATA:
        with pytest.raises(
            ValueError, match=r"ConditionalGAN needs a labelled dataset.*: data=cifar10, digits, .*shapes"
        ):
            build_model(cfg, datamodule)
        return
    if architecture != "mlp" and data in POINT_DATA:
        with pytest.raises(UserError, match=rf"architecture={architecture} works on square images.*shape \(2,\)"):
            build_model(cfg, datamodule)
        return
    built = build_model(cfg, datamodule)
    trainer = fit_model(built, datamodule, max_steps=2)
    assert trainer.global_step == 2 and built.critic_updates == 2 * cfg.model.n_critic


@pytest.mark.parametrize("model", MODELS)
def test_every_architecture_builds_or_is_refused_naming_those_that_fit(compose_config, model):
    fitting = FITTING_ARCHITECTURES.get(model, NOISE_ARCHITECTURES)
    for architecture in sorted(p.stem for p in Path(CONFIG_DIR, "architecture").glob("*.yaml")):
        cfg = compose_config(
            [f"model={model}", f"architecture={architecture}", f"data={OWN_DATA.get(model, 'digits')}"]
        )
        if architecture in fitting:
            build_model(cfg, instantiate(cfg.data))
        else:
            with pytest.raises(
                ValueError,
                match=f"needs a generator that takes .*: use architecture={', '.join(fitting)}, or, for these nets, "
                "model=[a-z0-9_, ]+\\.$",
            ):
                build_model(cfg, instantiate(cfg.data))


def test_a_net_that_does_not_declare_its_role_is_named(compose_config):
    cfg = compose_config(["model=gan", "architecture.generator._target_=torch.nn.Identity"])
    with pytest.raises(TypeError, match=r"Identity is not a litgan.nets.roles.Generator: a net subclasses it"):
        build_model(cfg, instantiate(cfg.data))


def test_train_returns_the_logged_metrics_and_checkpoint_paths(compose_config):
    metrics = train(compose_config(["model=gan", *tiny_overrides(steps=2), "trainer.log_every_n_steps=1"]))
    assert metrics["train/g_step"] == 2.0 and {
        "val/modes",
        "best_model_path",
        "last_model_path",
    } <= set(metrics)


@pytest.mark.parametrize("data", FILE_DATA)
def test_datasets_on_disk_compose_and_say_where_files_go_when_missing(compose_config, data, tmp_path):
    cfg = compose_config([f"data={data}", "architecture=dcgan", f"paths.data_dir={tmp_path}"])
    check_config(cfg, TRAIN_OPTIONS)
    datamodule = instantiate(cfg.data)
    assert len(datamodule.data_shape) == 3
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        datamodule.setup("fit")


def test_the_model_presets_carry_the_papers_hyperparameters(compose_config):
    wgan = compose_config(["model=wgan"]).model
    assert (wgan.optimizer_d._target_, wgan.optimizer_d.lr, wgan.weight_clip, wgan.n_critic) == (
        "torch.optim.RMSprop",
        5e-5,
        0.01,
        5,
    )
    gp = compose_config(["model=wgan_gp"])
    assert (
        gp.model.optimizer_d.lr,
        list(gp.model.optimizer_d.betas),
        gp.model.gradient_penalty_weight,
        gp.model.n_critic,
    ) == (1e-4, [0.0, 0.9], 10.0, 5)
    assert gp.loss._target_ == "litgan.losses.WassersteinLoss" and gp.architecture.discriminator.norm == "layer"
    assert (
        compose_config(["model=wgan_gp", "loss=hinge"]).loss._target_ == "litgan.losses.HingeLoss"
    )  # the command line wins
    toy = compose_config([]).model
    assert (toy.gradient_penalty_weight, list(toy.optimizer_g.betas)) == (0.1, [0.5, 0.9])
    sn = compose_config(["model=sngan"])
    assert (sn.loss._target_, sn.model.spectral_norm, sn.model.optimizer_d.lr, list(sn.model.optimizer_d.betas)) == (
        "litgan.losses.HingeLoss",
        True,
        2e-4,
        [0.0, 0.9],
    )
    assert sn.model.n_critic == 1 and sn.architecture.discriminator.norm == "none"
    bigan = compose_config(["model=bigan"]).model
    assert (bigan.optimizer_g.lr, list(bigan.optimizer_g.betas), bigan.optimizer_g.weight_decay) == (
        2e-4,
        [0.5, 0.999],
        2.5e-5,
    )


@pytest.mark.parametrize(
    "group,option",
    [
        (p.parent.name, p.stem)
        for name in ("experiment", "debug", "hparams_search")
        for p in sorted(Path(CONFIG_DIR, name).glob("*.yaml"))
    ],
)
def test_presets_compose_and_build(compose_config, group, option):
    cfg = compose_config([f"{group}={option}"])
    model = build_model(cfg, instantiate(cfg.data))
    assert type(model) is get_class(cfg.model._target_) and model.n_critic == cfg.model.n_critic


def test_logger_many_writes_to_wandb_csv_and_tensorboard(compose_config, tmp_path):
    import csv

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    overrides = [o for o in tiny_overrides(steps=4) if not o.startswith("logger=")]
    metrics = train(compose_config([*overrides, "logger=many", "trainer.log_every_n_steps=2"]))
    assert "val/modes" in metrics
    (run,) = offline_runs(tmp_path)
    # one step number per validation everywhere: generator steps 2 and 4, as the pictures' files say
    assert run.steps("val/reverse_kl") == [2, 4] and run.steps("train/d_loss") == [2, 4]
    with next(tmp_path.glob("csv/**/metrics.csv")).open() as file:
        rows = list(csv.DictReader(file))
    assert [int(row["step"]) for row in rows if row["val/reverse_kl"]] == [2, 4]
    assert [int(row["step"]) for row in rows if row["train/d_loss"]] == [2, 4]
    events = EventAccumulator(str(next(tmp_path.glob("tensorboard/**/events.out.tfevents.*")).parent)).Reload()
    assert [event.step for event in events.Scalars("val/reverse_kl")] == [2, 4]
    assert [event.step for event in events.Scalars("train/d_loss")] == [2, 4]
    assert [event.step for event in events.Images("val/samples")] == [2, 4]
    assert sorted(path.name for path in tmp_path.glob("samples/samples_step*.png")) == [
        "samples_step0000002.png",
        "samples_step0000004.png",
    ]


@pytest.mark.parametrize("model,loss", list(itertools.product(TRANSLATION_MODELS, LOSSES)))
def test_translation_models_train_with_every_loss_on_their_embedded_task(compose_config, model, loss):
    from tests.helpers import cyclegan_overrides, stargan_overrides

    overrides = cyclegan_overrides(steps=2) if model == "cyclegan" else stargan_overrides(steps=2)
    cfg = compose_config([*overrides, f"loss={loss}"])
    datamodule = instantiate(cfg.data)
    model = build_model(cfg, datamodule)
    trainer = fit_model(model, datamodule, max_steps=2)
    assert trainer.global_step == 2


@pytest.mark.parametrize("model", sorted(set(MODELS) - set(TRANSLATION_MODELS)))
def test_generative_models_refuse_translation_data(compose_config, model):
    architecture = FITTING_ARCHITECTURES.get(model, NOISE_ARCHITECTURES)[0]
    cfg = compose_config([f"model={model}", "data=unpaired_shapes", f"architecture={architecture}"])
    with pytest.raises(ValueError, match="trains on one dataset"):
        build_model(cfg, instantiate(cfg.data))
