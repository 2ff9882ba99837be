"""`model.cuda_graphs=true`: each critic and generator pass is recorded once as a CUDA graph and
replayed. Where a run cannot use graphs it says why in one sentence and trains as without the
option; on a GPU, graphed training gives the weights eager training gives."""

import pytest
import torch

from litgan.models.cuda_graphs import CapturedCall
from tests.helpers import fit, tiny_overrides

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a CUDA device")


def assert_same_weights(actual, expected, **tolerance):
    for name, value in expected.state_dict().items():
        torch.testing.assert_close(actual.state_dict()[name].cpu(), value.cpu(), msg=name, **tolerance)


def test_on_the_cpu_the_run_says_why_and_trains_as_without_graphs(compose_config, caplog):
    overrides = ["model=wgan_gp", *tiny_overrides()]
    _, eager = fit(compose_config(overrides), max_steps=6)
    _, fallback = fit(compose_config([*overrides, "model.cuda_graphs=true"]), max_steps=6)
    assert "model.cuda_graphs: CUDA graphs need a CUDA device, and this run trains on cpu" in caplog.text
    assert not isinstance(fallback.passes.critic, CapturedCall)
    assert_same_weights(fallback, eager, rtol=0, atol=0)
    assert fallback.critic_updates == eager.critic_updates == 6 * 5


@pytest.mark.parametrize(
    ("overrides", "obstacle"),
    [
        (["model=cyclegan", "architecture.generator.features=4", "architecture.generator.num_blocks=1",
          "architecture.discriminator.features=4", "data.num_samples=64", "data.batch_size=2"],
         "CycleGAN's training passes keep state"),
        (["model=wgan_gp", *tiny_overrides(), "trainer.precision=bf16-mixed"], "graphs are recorded at 32-bit precision only, and this run uses bf16-mixed"),
    ],
    ids=["host-state", "precision"],
)  # fmt: skip
def test_runs_that_graphs_cannot_replay_say_why(overrides, obstacle, compose_config, caplog):
    cfg = compose_config([*overrides, "model.cuda_graphs=true"])
    _, model = fit(cfg, max_steps=1, precision=cfg.trainer.get("precision", "32-true"))
    assert f"model.cuda_graphs: {obstacle}" in caplog.text and "training without CUDA graphs" in caplog.text
    assert not isinstance(model.passes.critic, CapturedCall)


@needs_cuda
def test_replays_draw_the_random_numbers_eager_calls_draw():
    def noisy_double(x, generator):
        return x * 2 + torch.randn(x.shape, generator=generator, device=x.device)

    inputs = [torch.full((4,), float(i), device="cuda") for i in range(6)]
    eager_generator = torch.Generator("cuda").manual_seed(3)
    eager = [noisy_double(x, eager_generator) for x in inputs]
    graph_generator = torch.Generator("cuda").manual_seed(3)
    call = CapturedCall(lambda x: noisy_double(x, graph_generator), [graph_generator], warmup=2)
    replayed = [call(x).clone() for x in inputs]
    assert call.graph is not None
    for got, expected in zip(replayed, eager):
        torch.testing.assert_close(got, expected)
    assert torch.equal(graph_generator.get_state(), eager_generator.get_state())
    with pytest.raises(ValueError, match="every training batch must have the same size"):
        call(torch.zeros(5, device="cuda"))


@needs_cuda
@pytest.mark.parametrize("architecture", ["mlp", "dcgan"])
def test_graphed_training_gives_the_weights_of_eager_training(architecture, compose_config):
    data = "ring" if architecture == "mlp" else "digits"
    overrides = ["model=wgan_gp", f"data={data}", *tiny_overrides(architecture)]
    _, eager = fit(compose_config(overrides), accelerator="gpu", max_steps=8)
    _, graphed = fit(compose_config([*overrides, "model.cuda_graphs=true"]), accelerator="gpu", max_steps=8)
    assert isinstance(graphed.passes.critic, CapturedCall) and graphed.passes.critic.graph is not None
    assert graphed.critic_updates == eager.critic_updates and graphed.global_step == eager.global_step == 8
    assert_same_weights(graphed, eager, rtol=1e-4, atol=1e-5)
