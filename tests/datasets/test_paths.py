"""Tests of the data search path."""

from __future__ import annotations

import pytest

import img2imu_lib as L
from img2imu_lib.datasets.paths import require_data


def test_parameter_then_environment(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "x").mkdir(parents=True)
    (second / "x").mkdir(parents=True)
    monkeypatch.setenv("IMG2IMU_DATA", str(second))
    assert L.find_data("x") == second / "x"
    assert L.find_data("x", [first]) == first / "x"
    assert L.data_search_path([first])[:2] == [first, second]


def test_missing_data_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("IMG2IMU_DATA", str(tmp_path))
    assert L.find_data("no-such-dataset") is None
    with pytest.raises(FileNotFoundError, match=rf"no-such-dataset not found in the data search path \({tmp_path}.*IMG2IMU_DATA. Get it here"):
        require_data("no-such-dataset", how_to_get="Get it here.")
