"""Every chapter notebook: a literal, documented parameters cell, no committed outputs, and a
papermill smoke run with other parameters (``-p profile smoke -p seed 3``), which is the execution of the
smoke book build (``conftest.smoke_book``) rather than a second one."""

from __future__ import annotations

import ast

import nbformat
import papermill
import pytest

from .conftest import ROOT, SMOKE_SEED

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_chapters():
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_is_literal_annotated_and_commented(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    lines = [line for line in tagged[0].source.splitlines() if line.strip()]
    for line in lines:
        statement = ast.parse(line).body[0]
        assert isinstance(statement, ast.AnnAssign), f"{line!r}: expected `name: type = literal  # comment`"
        ast.literal_eval(statement.value)  # raises on anything but a literal
        assert "  # " in line, f"{line!r} has no comment"
    names = {ast.parse(line).body[0].target.id for line in lines}
    assert {"profile", "seed"} <= names
    documented = papermill.inspect_notebook(str(path))
    assert all(p["help"] and p["inferred_type_name"] != "None" for p in documented.values())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: a code cell carries outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_smoke_run(path, smoke_book):
    out = smoke_book / "_build" / "src" / "notebooks" / path.name
    executed = nbformat.read(out, as_version=4)
    assert executed.metadata["papermill"]["parameters"] == {"profile": "smoke", "seed": SMOKE_SEED}
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and f"seed = {SMOKE_SEED}" in injected[0].source
    assert all(c.execution_count for c in executed.cells if c.cell_type == "code" and c.source.strip()), \
        "a code cell was not executed"
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error"
            assert not (output.output_type == "stream" and output.name == "stderr"), f"stderr: {output.text[:300]}"
