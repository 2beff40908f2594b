"""Run records: written once, reused for the same inputs, rewritten after a crash, listed in order."""

from __future__ import annotations

import json

import numpy as np

from img2imu_lib.store import cached_record, load_records, record_key


def test_a_record_is_computed_once_per_inputs(tmp_path):
    calls = []

    def compute() -> dict:
        calls.append(1)
        return {"f1": np.float32(0.5), "per_seed": np.arange(2)}

    first = cached_record(tmp_path, "stage", "m-d", {"seeds": [0, 1]}, compute)
    again = cached_record(tmp_path, "stage", "m-d", {"seeds": [0, 1]}, compute)
    other = cached_record(tmp_path, "stage", "m-d", {"seeds": [0, 2]}, compute)
    assert len(calls) == 2 and first == again and other["key"] != first["key"]
    assert first["f1"] == 0.5 and first["per_seed"] == [0, 1] and first["seeds"] == [0, 1]
    assert {"commit", "wall_seconds", "created", "machine", "key", "stage", "name"} <= set(first)
    assert record_key({"a": 1, "b": 2}) == record_key({"b": 2, "a": 1})
    listed = load_records(tmp_path)
    assert {r["key"] for r in listed} == {first["key"], other["key"]}
    assert all(r["file"].startswith("stage/m-d-") for r in listed)


def test_a_record_cut_short_is_computed_again(tmp_path):
    record = cached_record(tmp_path, "s", "n", {}, lambda: {"x": 1})
    path = next(tmp_path.rglob("*.json"))
    path.write_text('{"x": ')
    again = cached_record(tmp_path, "s", "n", {}, lambda: {"x": 2})
    assert again["x"] == 2 and json.loads(path.read_text())["x"] == 2 and record["key"] == again["key"]
