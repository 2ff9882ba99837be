"""What happens to an error that stops a run."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def reason_logged(log: logging.Logger, stage: str) -> Iterator[None]:
    """Log the error that ends `stage` before it propagates: the run folder's log file (Hydra's
    job log) then says why the run stopped, not only the terminal."""
    try:
        yield
    except Exception as error:
        log.error("%s stopped: %s", stage, error)
        raise
