"""W&B must never make training wait on a network the machine may not have."""

import netrc
import os
from pathlib import Path


def has_wandb_credentials() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc(Path.home() / ".netrc").authenticators("api.wandb.ai") is not None
    except (FileNotFoundError, netrc.NetrcParseError):
        return False


def choose_wandb_mode() -> str:
    """Respect an explicit WANDB_MODE; otherwise online with credentials, offline without."""
    if "WANDB_MODE" not in os.environ:
        os.environ["WANDB_MODE"] = "online" if has_wandb_credentials() else "offline"
    return os.environ["WANDB_MODE"]
