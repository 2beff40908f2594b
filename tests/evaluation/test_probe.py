"""The linear probe: its metric against scikit-learn, its protocol assertions, and that it learns."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score
from torch import nn

from img2imu_lib.evaluation.probe import ProbeConfig, extract_features, macro_f1, train_head, train_heads


def test_macro_f1_is_scikit_learns(rng):
    true, predicted = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    assert macro_f1(true, predicted, classes=4) == pytest.approx(f1_score(true, predicted, average="macro"))
    assert macro_f1([0, 1, 2], [0, 1, 2], classes=3) == 1.0
    # class 2 is never predicted and never true: it still counts, with F1 0, in the mean over all classes
    assert macro_f1([0, 1], [0, 1], classes=3) == pytest.approx(2 / 3)


def clusters(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Three well separated Gaussian clusters in 8 dimensions: (3n, 8) points and their labels."""
    centres = torch.eye(3, 8) * 6.0
    labels = torch.arange(3).repeat_interleave(n)
    return centres[labels] + torch.randn(3 * n, 8, generator=generator), labels


def test_head_learns_separable_features_and_is_seeded(generator):
    features, labels = clusters(10, generator)
    config = ProbeConfig(epochs=20, lr=1e-2)
    head = train_head(features, labels, classes=3, config=config)
    assert list(head.parameters())[0].shape == (3, 8) and len(list(head.parameters())) == 2
    test_features, test_labels = clusters(20, generator)
    assert macro_f1(test_labels, head(test_features).argmax(1), classes=3) == 1.0
    again = train_head(features, labels, classes=3, config=config)
    assert torch.equal(head.weight, again.weight)  # same seed, same head
    other = train_head(features, labels, classes=3, config=ProbeConfig(epochs=20, lr=1e-2, seed=1))
    assert not torch.equal(head.weight, other.weight)


def test_heads_train_on_frozen_features_only(generator):
    features, labels = clusters(6, generator)
    with pytest.raises(ValueError, match="features require grad"):
        train_heads(features.requires_grad_()[None], labels[None], classes=3, lrs=[1e-2], weight_decays=[0.0], seeds=[0],
                    epochs=1)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="labels span 0..5; expected 0..2"):
        train_head(torch.zeros(6, 2), torch.arange(6), classes=3, config=ProbeConfig(epochs=1))
    with pytest.raises(ValueError, match="4 feature rows and 3 labels"):
        train_head(torch.zeros(4, 2), torch.zeros(3, dtype=torch.long), classes=3, config=ProbeConfig(epochs=1))
    with pytest.raises(ValueError, match="batch_size=0"):
        ProbeConfig(batch_size=0)


def test_features_in_batches_equal_features_at_once(generator):
    backbone = nn.Sequential(nn.Linear(8, 5), nn.BatchNorm1d(5))
    x = torch.randn(10, 8, generator=generator)
    torch.testing.assert_close(extract_features(backbone, x, batch_size=3), backbone.eval()(x).detach())
    assert np.isfinite(extract_features(backbone, x).numpy()).all()
