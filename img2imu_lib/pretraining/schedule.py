"""The pre-training learning-rate schedule of Section V-A4, as a pure function of the epoch.

The paper: start at 1e-8, rise to 1e-5 over the first 10 of 40 epochs, fall to 1e-6 by the
last. It does not give the shapes; we rise linearly and fall along a half cosine (MoCo v2's
decay shape), both stated here as our assumptions.
"""

from __future__ import annotations

import math


def learning_rate(
    epoch: float, *, epochs: int = 40, warmup_epochs: int = 10, start: float = 1e-8, peak: float = 1e-5, end: float = 1e-6
) -> float:
    """Learning rate at fractional ``epoch`` (epoch + step / steps_per_epoch), 0 <= epoch <= epochs."""
    if not 0 <= warmup_epochs < epochs:
        raise ValueError(f"warmup_epochs={warmup_epochs}; expected 0 <= warmup_epochs < epochs={epochs}")
    if not 0 <= epoch <= epochs:
        raise ValueError(f"epoch={epoch}; expected 0 <= epoch <= {epochs}")
    if epoch < warmup_epochs:
        return start + (peak - start) * epoch / warmup_epochs
    progress = (epoch - warmup_epochs) / (epochs - warmup_epochs)  # 0 at the peak, 1 at the last epoch
    return end + (peak - end) * 0.5 * (1.0 + math.cos(math.pi * progress))
