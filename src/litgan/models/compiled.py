"""`model.compile`: torch.compile of the nets, in place, so that checkpoints keep their names."""

from lightning.pytorch.utilities import rank_zero_info
from torch import nn


def nets(module: nn.Module) -> list[nn.Module]:
    """The nets a generator or discriminator slot holds: itself, or each entry of a ModuleDict
    (CycleGAN's two directions, BiGAN's decoder and encoder)."""
    return list(module.values()) if isinstance(module, nn.ModuleDict) else [module]


def compile_nets(generator: nn.Module, discriminator: nn.Module, differentiated_twice: bool) -> None:
    """The generator, and the discriminator unless a gradient penalty differentiates it twice,
    which compiled graphs cannot."""
    for net in nets(generator):
        net.compile()
    if differentiated_twice:
        rank_zero_info(
            "model.compile: the discriminator stays uncompiled, since torch.compile cannot differentiate it "
            "twice, as the gradient penalty does; the generator is compiled."
        )
        return
    for net in nets(discriminator):
        net.compile()
