"""The contract every sensor method keeps: loss, gradients, learning, determinism, backbone.

Learning is measured honestly: the loss of one fixed batch with one fixed generator seed, in
eval mode (no dropout), before and after 8 Adam steps (lr 3e-3) on that batch. The batch is
aperiodic (smoothed noise), so CPC's same-window negatives are distinguishable. In 8 steps the
contrastive losses fall by only 0.02-0.1 nats (SimCLR least), so the bar is a fall of 0.01 nats;
with fixed seeds the test is deterministic.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from img2imu_lib.pretraining.sensor import (CPCHAR, CPCHARConfig, LimuBert, LimuBertConfig, MultiTaskHAR, MultiTaskHARConfig,
                                SimCLRHAR, SimCLRHARConfig)
from tests.pretraining.sensor.conftest import make_aperiodic_windows

METHODS = {
    "simclr": (SimCLRHAR, SimCLRHARConfig(), 96),
    "multitask": (MultiTaskHAR, MultiTaskHARConfig(), 96),
    "cpc": (CPCHAR, CPCHARConfig(), 256),
    "cpc-gru": (CPCHAR, CPCHARConfig(aggregator="gru"), 256),
    "limu_bert": (LimuBert, LimuBertConfig(), 72),
}
STATS = {"mean": (0.1, -0.2, 0.3), "std": (0.5, 0.6, 0.7)}


def build(name: str, **stats) -> torch.nn.Module:
    cls, config, _ = METHODS[name]
    torch.manual_seed(0)
    return cls(dataclasses.replace(config, **stats))


def fixed_loss(model: torch.nn.Module, windows: torch.Tensor, seed: int = 5) -> float:
    model.eval()
    with torch.no_grad():
        return model.loss(windows, generator=torch.Generator().manual_seed(seed)).item()


@pytest.mark.parametrize("name", list(METHODS))
def test_loss_is_a_finite_scalar_whose_gradient_reaches_the_encoder(name, windows):
    model = build(name, **STATS)
    loss = model.loss(windows, generator=torch.Generator().manual_seed(0))
    assert loss.shape == () and torch.isfinite(loss)
    loss.backward()
    for pname, p in model.encoder.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", list(METHODS))
def test_same_seed_same_loss_other_seed_other_loss(name, windows):
    model = build(name)
    assert fixed_loss(model, windows, 5) == fixed_loss(model, windows, 5)
    assert fixed_loss(model, windows, 5) != fixed_loss(model, windows, 6)


@pytest.mark.parametrize("name", list(METHODS))
def test_a_few_adam_steps_lower_the_loss(name):
    windows = make_aperiodic_windows(8, 100, seed=1)
    model = build(name, mean=(0.0, 0.0, 0.0), std=(0.6, 0.6, 0.6))
    before = fixed_loss(model, windows)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(8):
        optimizer.zero_grad()
        model.loss(windows, generator=generator).backward()
        optimizer.step()
    after = fixed_loss(model, windows)
    assert after < before - 0.01, (before, after)


@pytest.mark.parametrize("name", list(METHODS))
def test_backbone_maps_raw_windows_to_features_without_head(name):
    model = build(name, **STATS)
    backbone = model.backbone()
    assert not backbone.training
    for t in (100, 250, 500):
        assert backbone(torch.randn(3, t, 3)).shape == (3, METHODS[name][2])
    keys = set(backbone.state_dict())
    assert not any(part in key for key in keys for part in ("head", "predict"))
    trunk = sum(p.numel() for m in (model.encoder, getattr(model, "aggregator", None)) if m is not None
                for p in m.parameters())
    assert sum(p.numel() for p in backbone.parameters()) == trunk
    torch.testing.assert_close(backbone[0].mean, torch.tensor(STATS["mean"]))


@pytest.mark.parametrize("name", list(METHODS))
def test_backbone_is_a_copy(name):
    model = build(name)
    backbone = model.backbone()
    with torch.no_grad():
        for p in backbone.parameters():
            p.add_(1.0)
    assert all(not torch.equal(p, q) for p, q in zip(backbone[1].parameters(), model.encoder.parameters()))


@pytest.mark.parametrize("name", list(METHODS))
def test_optimizer_and_rate_follow_the_config(name):
    model = build(name)
    optimizer = model.optimizer(64)
    assert optimizer.param_groups[0]["lr"] == model.config.lr == model.learning_rate(0.0, epochs=50, batch_size=64)
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(list(model.parameters()))
    assert model.learning_rate(25.0, epochs=50, batch_size=64) == model.learning_rate(25.0, epochs=50, batch_size=64)
    with pytest.raises(ValueError, match="epoch=51"):
        model.learning_rate(51.0, epochs=50, batch_size=64)


def test_simclr_rate_is_a_cosine_to_zero():
    model = SimCLRHAR()
    assert model.learning_rate(25.0, epochs=50, batch_size=64) == pytest.approx(0.05)
    assert model.learning_rate(50.0, epochs=50, batch_size=64) == pytest.approx(0.0, abs=1e-12)
    assert isinstance(model.optimizer(64), torch.optim.SGD)


@pytest.mark.parametrize("name", list(METHODS))
def test_loss_rejects_bad_windows(name):
    model = build(name)
    with pytest.raises(ValueError, match=r"expected \(N, T, 3\)"):
        model.loss(torch.randn(4, 3, 100), generator=torch.Generator().manual_seed(0))
