"""Every chapter notebook: a literal, documented parameters cell, no committed outputs, and a
papermill smoke run with other parameters (``-p profile smoke -p seed 3``)."""

from __future__ import annotations

import ast

import nbformat
import papermill
import pytest

from .conftest import ROOT

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
def test_smoke_run(path, tmp_path):
    out = tmp_path / path.name
    papermill.execute_notebook(str(path), str(out), parameters={"profile": "smoke", "seed": 3},
                               cwd=str(path.parent), kernel_name="python3", progress_bar=False)
    executed = nbformat.read(out, as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "seed = 3" in injected[0].source
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error"
            assert not (output.output_type == "stream" and output.name == "stderr"), f"stderr: {output.text[:300]}"
