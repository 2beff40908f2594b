"""The store: run records (written once, reused for the same inputs, rewritten after a crash, listed in order),
and the promise that no file is read in a way that can run its code."""

from __future__ import annotations

import ast
import json
from pathlib import Path

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


ROOT = Path(__file__).resolve().parents[1]


def unsafe_loads(path: Path) -> list[str]:
    """The calls in ``path`` that could run code from a file: ``torch.load`` anywhere but ``store.load_tensors``,
    any ``weights_only=False``, ``pickle.load``/``loads``, and ``np.load`` with ``allow_pickle=True``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func)
        keywords = {k.arg: ast.unparse(k.value) for k in node.keywords}
        if (name == "torch.load" and path.name != "store.py") or keywords.get("weights_only") == "False" \
                or name in ("pickle.load", "pickle.loads") or keywords.get("allow_pickle") == "True":
            found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)[:80]}")
    return found


def test_no_file_is_read_in_a_way_that_can_run_its_code(tmp_path):
    """What SECURITY.md promises: every torch.save file is read by store.load_tensors, nothing is unpickled."""
    files = [p for folder in ("img2imu_lib", "benchmarks", "tools") for p in (ROOT / folder).rglob("*.py")]
    assert len(files) > 50
    assert [hit for path in files for hit in unsafe_loads(path)] == []
    planted = tmp_path / "unsafe_example.py"  # the scan itself finds each kind of call
    planted.write_text("import torch, pickle, numpy as np\ntorch.load(f)\nx.load(f, weights_only=False)\n"
                       "pickle.loads(b)\nnp.load(f, allow_pickle=True)\n")
    assert len(unsafe_loads(planted)) == 4
