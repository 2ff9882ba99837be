"""The contract a model family signs: its capabilities' methods and the base's abstract methods."""

import pytest

from litgan.models import GAN, AdversarialModel, Capability


def test_a_family_that_declares_a_capability_without_its_methods_fails_when_defined():
    with pytest.raises(TypeError, match="declares Capability.SAMPLE\\|ENCODE but has no encode, reconstruction_errors"):

        class HalfBiGAN(GAN):  # noqa: F841 (defining it is the test)
            capabilities = Capability.SAMPLE | Capability.ENCODE


def test_a_family_without_the_abstract_methods_cannot_be_built():
    class NoLosses(AdversarialModel):
        pass

    with pytest.raises(
        TypeError, match="abstract methods critic_loss, generator_loss, sample_grid, validation_outputs"
    ):
        NoLosses(loss=None, optimizer_g=None, optimizer_d=None)
