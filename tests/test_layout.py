"""The package's layout is its architecture: each stage imports only from the stages below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "img2imu_lib"
# lowest first; a module may import from its own stage and any stage before it
STAGES = ("checks", "store", "progress", "seeding", "datasets", "images", "pretraining", "evaluation", "deploy", "book")
TOP = ("__init__", "__main__")  # the public API and the command line sit above every stage


def stage_of(module: str) -> str:
    return module.split(".")[0]


def imported_modules(path: Path, root: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, module under img2imu_lib) of every import of the library in ``path``, relative or absolute."""
    relative_parts = list(path.relative_to(root).with_suffix("").parts)
    package = relative_parts if path.name == "__init__.py" else relative_parts[:-1]
    package = [p for p in package if p != "__init__"]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                names = [".".join(base + ([node.module] if node.module else []) + [alias.name]) if not node.module else
                         ".".join(base + [node.module]) for alias in node.names]
            elif node.module and node.module.startswith("img2imu_lib."):
                names = [node.module.removeprefix("img2imu_lib.")]
            else:
                continue
            found += [(node.lineno, n) for n in names if n]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name.removeprefix("img2imu_lib.")) for a in node.names
                      if a.name.startswith("img2imu_lib.")]
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def test_every_module_belongs_to_a_stage() -> None:
    strays = [str(p.relative_to(PACKAGE)) for p in MODULES
              if stage_of(str(p.relative_to(PACKAGE).with_suffix("")).replace("/", ".")) not in STAGES + TOP]
    assert not strays, f"modules outside every stage: {strays}; put each in one of {STAGES}"


def upward_imports(path: Path, root: Path = PACKAGE) -> list[tuple[int, str]]:
    """The imports of ``path`` from a stage above its own (none for the top-level modules)."""
    own = stage_of(str(path.relative_to(root).with_suffix("")).replace("/", "."))
    if own in TOP:
        return []
    return [(line, module) for line, module in imported_modules(path, root)
            if stage_of(module) in STAGES and STAGES.index(stage_of(module)) > STAGES.index(own)]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_downhill(path: Path) -> None:
    upward = upward_imports(path)
    assert not upward, f"{path.relative_to(PACKAGE)} imports from a higher stage: {upward}"


def test_the_checker_sees_upward_imports(tmp_path: Path) -> None:
    """The rule can fail: relative and absolute imports of a higher stage are reported, lower ones are not."""
    root = tmp_path / "img2imu_lib"
    (root / "datasets").mkdir(parents=True)
    probe = root / "datasets" / "probe.py"
    probe.write_text("from ..evaluation.study import Evaluation\nimport img2imu_lib.book.viz\n"
                     "from ..store import cache_dir\nfrom . import windows\n")
    assert upward_imports(probe, root) == [(1, "evaluation.study"), (2, "book.viz")]
