"""litgan: a PyTorch Lightning + Hydra template for training GANs."""

from litgan.utils.resolvers import register_resolvers

__version__ = "0.1.0"

# before any config is composed, by the entry scripts, notebooks or tests: configs use them
register_resolvers()
