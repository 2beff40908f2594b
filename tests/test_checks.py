"""Tests of the parameter checks: field types of the configs, and seeds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from img2imu_lib.book.profiles import PROFILES
from img2imu_lib.checks import check_field_types, check_seed
from img2imu_lib.evaluation.study import EvalSizes
from img2imu_lib.pretraining.config import PretrainConfig, PretrainSizes
from img2imu_lib.pretraining.moco import MoCoConfig


@dataclass(frozen=True)
class Sizes:
    count: int
    rate: float
    name: str
    flag: bool
    cap: int | None
    grid: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        check_field_types(self)


GOOD = dict(count=3, rate=0.5, name="x", flag=True, cap=None, grid=((64, 48),))


@pytest.mark.parametrize("field, value, expected", [
    ("count", 2.5, "Sizes.count=2.5 (float); expected a whole number (int)"),
    ("count", "3", "Sizes.count='3' (str); expected a whole number (int)"),
    ("count", True, "Sizes.count=True (bool); expected a whole number (int)"),
    ("rate", float("inf"), "Sizes.rate=inf (float); expected a finite number"),
    ("rate", "0.5", "expected a finite number"),
    ("name", 3, "Sizes.name=3 (int); expected a string"),
    ("flag", 1, "Sizes.flag=1 (int); expected True or False"),
    ("cap", 2.0, "expected a whole number (int) or None"),
    ("grid", ((64, 48.5),), "expected a tuple, each a tuple (a whole number (int), a whole number (int))"),
    ("grid", ((64, 48, 1),), "expected a tuple, each a tuple"),
])
def test_a_field_of_the_wrong_type_is_named(field, value, expected):
    with pytest.raises(ValueError) as caught:
        Sizes(**{**GOOD, field: value})
    assert expected in str(caught.value)


def test_numpy_numbers_and_lists_become_python_values():
    sizes = Sizes(**{**GOOD, "count": np.int64(4), "rate": np.float32(0.25), "cap": np.int32(7), "grid": [[32, 16]]})
    assert type(sizes.count) is int and type(sizes.rate) is float and type(sizes.cap) is int
    assert sizes.grid == ((32, 16),) and sizes.rate == 0.25


def test_an_int_where_a_float_is_meant_is_kept():
    assert Sizes(**{**GOOD, "rate": 1}).rate == 1


@pytest.mark.parametrize("seed", [-1, 2**31, 1.0, "0", True, None])
def test_seeds_outside_the_range_or_not_whole_are_refused(seed):
    with pytest.raises(ValueError, match=r"seed=.*; expected a whole number from 0 to 2147483647"):
        check_seed(seed)


def test_the_configs_check_their_fields():
    with pytest.raises(ValueError, match=r"PretrainConfig.epochs=2.5 \(float\)"):
        PretrainConfig(epochs=2.5)
    with pytest.raises(ValueError, match=r"MoCoConfig.queue_size='4096' \(str\)"):
        PretrainConfig(moco=MoCoConfig(queue_size="4096"))
    with pytest.raises(ValueError, match="seed=-2"):
        PretrainConfig(seed=-2)
    with pytest.raises(ValueError, match=r"PretrainSizes.batch_size=64.0"):
        PretrainSizes(batch_size=64.0)
    with pytest.raises(ValueError, match="seed=-1"):
        EvalSizes(**{**PROFILES["smoke"].evaluation.__dict__, "seeds": (0, -1)})
    with pytest.raises(ValueError, match=r"EvalSizes.shots=1.5"):
        EvalSizes(**{**PROFILES["smoke"].evaluation.__dict__, "shots": 1.5})


def test_a_config_read_back_from_json_keeps_its_key():
    config = PretrainConfig(seed=np.int64(3), augmentations=["hue", "jitter"])
    assert config.seed == 3 and config.augmentations == ("hue", "jitter")
    assert PretrainConfig.from_dict(config.as_dict()).key() == config.key()
