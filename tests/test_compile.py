"""`model.compile=true`: the nets run through torch.compile (inductor, on the CPU here) and train
as they do eagerly; a discriminator that the gradient penalty differentiates twice stays eager."""

import torch
from hydra.utils import instantiate

from litgan.models.build import build_model
from tests.helpers import fit, tiny_overrides


def is_compiled(net: torch.nn.Module) -> bool:
    return net._compiled_call_impl is not None  # what nn.Module.compile() sets


def test_compiled_nets_train_as_eager_ones(compose_config):
    overrides = ["model=gan", *tiny_overrides()]
    _, eager = fit(compose_config(overrides))
    _, compiled = fit(compose_config([*overrides, "model.compile=true"]))
    assert is_compiled(compiled.generator) and is_compiled(compiled.discriminator)
    assert eager.state_dict().keys() == compiled.state_dict().keys()  # checkpoints keep their names
    for name, value in eager.state_dict().items():
        torch.testing.assert_close(compiled.state_dict()[name], value, rtol=1e-4, atol=1e-5, msg=name)


def test_with_a_gradient_penalty_only_the_generator_is_compiled(compose_config, caplog):
    cfg = compose_config(["model=wgan_gp", *tiny_overrides(), "model.compile=true"])
    model = build_model(cfg, instantiate(cfg.data))
    model.configure_model()
    assert is_compiled(model.generator) and not is_compiled(model.discriminator)
    assert "the discriminator stays uncompiled" in caplog.text
