"""Adversarial losses and penalties against their formulas."""

import math

import pytest
import torch
from hydra.utils import instantiate
from torch import nn

from litgan.losses import (
    HingeLoss,
    LeastSquaresLoss,
    LeCamAnchors,
    MinimaxLoss,
    NonSaturatingLoss,
    WassersteinLoss,
    clip_weights,
    gradient_penalty,
    r1_penalty,
)

REAL = torch.tensor([2.0, -1.0, 0.5])
FAKE = torch.tensor([-3.0, 0.0, 1.5])


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def test_minimax_discriminator_is_binary_cross_entropy():
    expected = -mean(math.log(sigmoid(r)) for r in REAL.tolist()) - mean(
        math.log(1 - sigmoid(f)) for f in FAKE.tolist()
    )
    assert MinimaxLoss().discriminator(REAL, FAKE).item() == pytest.approx(expected, rel=1e-6)
    assert NonSaturatingLoss().discriminator(REAL, FAKE).item() == pytest.approx(expected, rel=1e-6)


def test_generator_losses_follow_their_formulas():
    assert MinimaxLoss().generator(FAKE).item() == pytest.approx(
        mean(math.log(1 - sigmoid(f)) for f in FAKE.tolist()), rel=1e-6
    )
    assert NonSaturatingLoss().generator(FAKE).item() == pytest.approx(
        -mean(math.log(sigmoid(f)) for f in FAKE.tolist()), rel=1e-6
    )


def test_wasserstein_hinge_least_squares():
    assert WassersteinLoss().discriminator(REAL, FAKE).item() == pytest.approx(FAKE.mean() - REAL.mean())
    assert WassersteinLoss().generator(FAKE).item() == pytest.approx(-FAKE.mean())
    hinge = mean(max(0, 1 - r) for r in REAL.tolist()) + mean(max(0, 1 + f) for f in FAKE.tolist())
    assert HingeLoss().discriminator(REAL, FAKE).item() == pytest.approx(hinge)
    assert HingeLoss().generator(FAKE).item() == pytest.approx(-FAKE.mean())
    ls = 0.5 * mean((r - 1) ** 2 for r in REAL.tolist()) + 0.5 * mean(f**2 for f in FAKE.tolist())
    assert LeastSquaresLoss().discriminator(REAL, FAKE).item() == pytest.approx(ls)
    assert LeastSquaresLoss().generator(FAKE).item() == pytest.approx(0.5 * mean((f - 1) ** 2 for f in FAKE.tolist()))


def test_losses_stay_finite_for_confident_discriminators():
    extreme = torch.tensor([-200.0, 200.0])
    for loss in (MinimaxLoss(), NonSaturatingLoss()):
        assert torch.isfinite(loss.discriminator(extreme, extreme))
        assert torch.isfinite(loss.generator(extreme))


def generator_gradient(loss, logit: float) -> float:
    fake = torch.tensor([logit], requires_grad=True)
    loss.generator(fake).backward()
    return fake.grad.item()


def test_minimax_generator_gradient_vanishes_when_discriminator_rejects_samples():
    # D(G(z)) = sigmoid(-10) ~ 4.5e-5: the saturating loss gives almost no signal, the fix ~ -1.
    saturating = generator_gradient(MinimaxLoss(), -10.0)
    non_saturating = generator_gradient(NonSaturatingLoss(), -10.0)
    assert saturating == pytest.approx(-sigmoid(-10.0), rel=1e-4)
    assert non_saturating == pytest.approx(-(1 - sigmoid(-10.0)), rel=1e-4)
    assert abs(non_saturating) > 1e4 * abs(saturating)
    # both push the logit up (descending them raises D(G(z)))
    assert saturating < 0 and non_saturating < 0


def test_gradient_penalty_of_a_linear_critic():
    w = torch.tensor([3.0, 4.0])  # ||w|| = 5, the gradient everywhere
    critic = lambda x: x @ w  # noqa: E731
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    penalty = gradient_penalty(critic, real, fake, torch.rand(6))
    assert penalty.item() == pytest.approx((5 - 1) ** 2)


def test_gradient_penalty_by_hand_per_example_alpha_and_norm():
    # D(x) = sum(x^2) over each example -> grad = 2 x_hat; norms are taken per flattened example.
    critic = lambda x: (x**2).flatten(1).sum(1)  # noqa: E731
    real = torch.tensor([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 2.0], [2.0, 0.0]]])  # batch of 2 "images" 2x2
    fake = torch.zeros_like(real)
    alpha = torch.tensor([0.5, 0.25])
    x_hat = [0.5 * real[0], 0.25 * real[1]]
    norms = [(2 * x).flatten().norm().item() for x in x_hat]  # 1.0 and sqrt(2)
    expected = mean((n - 1) ** 2 for n in norms)
    assert gradient_penalty(critic, real, fake, alpha).item() == pytest.approx(expected, rel=1e-6)


def test_gradient_penalty_is_differentiable_in_the_critic_parameters():
    critic = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    penalty = gradient_penalty(lambda x: critic(x).squeeze(1), torch.randn(4, 2), torch.randn(4, 2), torch.rand(4))
    penalty.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in critic[0].parameters())


def test_clip_weights_clamps_every_parameter():
    net = nn.Linear(4, 4)
    nn.init.uniform_(net.weight, -1, 1)
    clip_weights(net, 0.01)
    assert all(p.abs().max() <= 0.01 for p in net.parameters())


def test_r1_is_the_squared_input_gradient_norm_on_real_data():
    # D(x) = sum(x^3) over each example -> grad = 3 x^2, the squared norm summed per example
    critic = lambda x: (x**3).flatten(1).sum(1)  # noqa: E731
    real = torch.tensor([[1.0, 2.0], [0.5, -1.0]])
    by_hand = mean(sum((3 * v**2) ** 2 for v in row) for row in real.tolist())
    assert r1_penalty(critic, real).item() == pytest.approx(by_hand)
    assert r1_penalty(critic, real, loss_scale=torch.tensor(1024.0)).item() == pytest.approx(by_hand)


def test_lazy_r1_applies_gamma_over_2_times_k_every_k_critic_updates(compose_config):
    from litgan.models.build import build_model

    gamma, k = 4.0, 3
    cfg = compose_config(["model=gan", "loss=wasserstein", f"model.r1_gamma={gamma}", f"model.r1_every={k}"])
    model = build_model(cfg, instantiate(cfg.data))
    critic = model.discriminator
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    squared_norm = r1_penalty(critic, real).item()
    for updates in range(7):
        model.critic_updates = updates
        terms = model.critic_terms(critic(real), critic(fake), critic, real, fake)
        plain = (critic(fake).mean() - critic(real).mean()).item()  # the Wasserstein critic term
        added = gamma / 2 * k * squared_norm if updates % k == 0 else 0.0
        assert terms.loss.item() == pytest.approx(plain + added, rel=1e-5), updates
        assert (terms.r1 is not None) == (updates % k == 0)


def test_lecam_pulls_scores_toward_the_bias_corrected_moving_averages_of_the_other_kind():
    anchors = LeCamAnchors(decay=0.9)
    steps = [
        (torch.tensor([1.0, 3.0]), torch.tensor([-2.0, 0.0])),
        (torch.tensor([0.0, 4.0]), torch.tensor([1.0, 5.0])),
    ]
    ema_real = ema_fake = 0.0
    for t, (real, fake) in enumerate(steps, start=1):
        value = anchors(real, fake, real.mean(), fake.mean())
        ema_real, ema_fake = 0.9 * ema_real + 0.1 * real.mean().item(), 0.9 * ema_fake + 0.1 * fake.mean().item()
        anchor_real, anchor_fake = ema_real / (1 - 0.9**t), ema_fake / (1 - 0.9**t)
        by_hand = mean(max(r - anchor_fake, 0) ** 2 for r in real.tolist()) + mean(
            max(anchor_real - f, 0) ** 2 for f in fake.tolist()
        )
        assert value.item() == pytest.approx(by_hand), t
    assert anchors.state_dict()["updates"] == 2  # the anchors are in the checkpoint
