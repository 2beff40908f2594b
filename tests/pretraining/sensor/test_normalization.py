"""Tests of the corpus statistics and the Standardize module."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from img2imu_lib.pretraining.sensor import SimCLRHARConfig, Standardize, fit_corpus_stats


def test_stats_match_numpy_per_axis(rng):
    windows = rng.normal([0.1, -0.9, 0.3], [0.2, 0.5, 1.5], size=(40, 50, 3)).astype(np.float32)
    mean, std = fit_corpus_stats(windows)
    flat = windows.reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(mean, flat.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, flat.std(axis=0), rtol=1e-12)
    tensor_mean, tensor_std = fit_corpus_stats(torch.from_numpy(windows))
    np.testing.assert_array_equal(tensor_mean, mean)
    np.testing.assert_array_equal(tensor_std, std)


def test_standardized_corpus_has_zero_mean_unit_std(rng):
    windows = rng.normal([0.1, -0.9, 0.3], [0.2, 0.5, 1.5], size=(40, 50, 3)).astype(np.float32)
    out = Standardize(*fit_corpus_stats(windows))(torch.from_numpy(windows)).double().reshape(-1, 3)
    torch.testing.assert_close(out.mean(0), torch.zeros(3, dtype=torch.float64), atol=1e-5, rtol=0)
    torch.testing.assert_close(out.std(0, correction=0), torch.ones(3, dtype=torch.float64), atol=1e-5, rtol=0)


def test_stats_are_buffers_saved_with_the_weights():
    module = Standardize([1.0, 2.0, 3.0], [0.5, 1.0, 2.0])
    assert set(module.state_dict()) == {"mean", "std"}
    assert not list(module.parameters())


def test_config_takes_arrays_and_keeps_tuples():
    config = dataclasses.replace(SimCLRHARConfig(), mean=np.array([0.1, 0.2, 0.3]), std=np.array([1.0, 2.0, 3.0]))
    assert config.mean == (0.1, 0.2, 0.3) and config.std == (1.0, 2.0, 3.0)


@pytest.mark.parametrize("mean, std, match", [
    ((0.0, 0.0), (1.0, 1.0, 1.0), "3 values"),
    ((0.0, 0.0, 0.0), (1.0, 0.0, 1.0), "std > 0"),
    ((0.0, float("nan"), 0.0), (1.0, 1.0, 1.0), "finite"),
])
def test_bad_stats_raise(mean, std, match):
    with pytest.raises(ValueError, match=match):
        Standardize(mean, std)
    with pytest.raises(ValueError, match=match):
        SimCLRHARConfig(mean=mean, std=std)


def test_constant_axis_and_bad_shape_raise():
    with pytest.raises(ValueError, match="zero variance"):
        fit_corpus_stats(np.ones((2, 10, 3)))
    with pytest.raises(ValueError, match=r"\(N, T, 3\)"):
        fit_corpus_stats(np.ones((10, 3)))
