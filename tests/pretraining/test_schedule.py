"""Tests of the learning-rate schedule."""

from __future__ import annotations

import numpy as np
import pytest

from img2imu_lib.pretraining.schedule import learning_rate


def test_paper_landmarks():
    assert learning_rate(0) == pytest.approx(1e-8)
    assert learning_rate(5) == pytest.approx((1e-8 + 1e-5) / 2)  # linear rise
    assert learning_rate(10) == pytest.approx(1e-5)
    assert learning_rate(25) == pytest.approx((1e-5 + 1e-6) / 2)  # half way down the cosine
    assert learning_rate(40) == pytest.approx(1e-6)


def test_rises_then_falls():
    rates = np.array([learning_rate(e) for e in np.linspace(0, 40, 401)])
    peak = int(rates.argmax())
    assert np.all(np.diff(rates[: peak + 1]) > 0) and np.all(np.diff(rates[peak:]) <= 0)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"epoch=41; expected 0 <= epoch <= 40"):
        learning_rate(41)
    with pytest.raises(ValueError, match="warmup_epochs=40"):
        learning_rate(1, warmup_epochs=40)
