"""litgan: a PyTorch Lightning + Hydra template for training GANs."""

__version__ = "0.1.0"
