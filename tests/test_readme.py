"""The README's Python examples run as written."""

from __future__ import annotations

import re

from .conftest import ROOT


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_readme_examples_run(shared_data, monkeypatch, tmp_path):
    monkeypatch.setenv("IMG2IMU_DATA", str(shared_data))  # the Daphnet example reads the real recordings
    monkeypatch.chdir(tmp_path)  # the pre-training example writes its run folder here
    blocks = python_blocks()
    assert len(blocks) >= 3
    results = {}
    for block in blocks:
        namespace: dict = {}
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
        results.update(namespace)
    assert results["shots"].size == 20  # 10 windows for each of Daphnet's two classes
    assert results["record"]["steps"] == 2 and (tmp_path / "runs" / "img2imu-smoke" / "record.json").exists()
    assert results["backbone"].fc.__class__.__name__ == "Identity"  # the encoder without its projection head
    assert 0.0 <= results["result"]["f1_mean"] <= 1.0 and len(results["result"]["per_seed"]) == 5
    assert results["heatmaps"].shape == (len(results["test"]), 96, 128)  # the explain-and-export example
    assert results["check"]["ok"] and (tmp_path / "exports" / "hapt" / "manifest.json").exists()
    assert results["predicted"].shape == (len(results["test"]),)
