"""The README's Python examples run as written."""

from __future__ import annotations

import re

from .conftest import ROOT


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_readme_examples_run(shared_data, monkeypatch):
    monkeypatch.setenv("IMG2IMU_DATA", str(shared_data))  # the Daphnet example reads the real recordings
    blocks = python_blocks()
    assert len(blocks) >= 2
    for block in blocks:
        namespace: dict = {}
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
    assert namespace["shots"].size == 20  # 10 windows for each of Daphnet's two classes
