"""The optimisation recipe three sensor baselines share: Adam at a constant rate, no schedule."""

from __future__ import annotations

import torch


class ConstantRateAdam:
    """Mixin for a method module whose config has ``lr`` and ``weight_decay``: Adam over all its parameters."""

    def optimizer(self, batch_size: int) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay)

    def learning_rate(self, epoch: float, *, epochs: int, batch_size: int) -> float:
        """The config's ``lr`` at every epoch in [0, epochs] (the original recipes use no schedule)."""
        if not 0 <= epoch <= epochs:
            raise ValueError(f"epoch={epoch}; expected 0 <= epoch <= {epochs}")
        return self.config.lr
