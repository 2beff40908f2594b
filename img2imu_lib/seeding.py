"""One seed for every source of randomness a chapter uses."""

from __future__ import annotations

import random

import numpy as np
import torch

from .checks import check_seed


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a ``torch.Generator`` seeded the same for injection."""
    seed = check_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
