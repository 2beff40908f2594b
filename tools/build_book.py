"""Build the book: papermill executes every chapter, then Jupyter Book renders the executed copies.

    python tools/build_book.py --profile cpu        # the main job: HTML in _build/html
    python tools/build_book.py --profile smoke      # the same book in seconds (used by the tests)

Sources stay read-only: executed notebooks go to _build/src/, a staging copy of the book
(config, prose pages, vendored browser files). A chapter whose notebook, profile and library
sources are unchanged since its last execution is not executed again. Any notebook error or
Sphinx warning fails the build; with --keep-going every chapter is still attempted first.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import papermill
import yaml
from tqdm import tqdm

from img2imu_lib.book.profiles import PROFILES

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "book" / "vendor"
# (package folder in node_modules, files or folders to serve, name under _build/html/vendor/)
VENDOR_FILES = [
    ("mathjax/es5", ["tex-chtml.js", "input", "output", "ui", "a11y", "adaptors"], "mathjax"),
    ("requirejs", ["require.js"], "requirejs"),
    ("@jupyter-widgets/html-manager/dist", ["embed-amd.js", "*.woff", "*.woff2", "*.ttf", "*.eot", "*.svg"], "html-manager"),
]


def vendor_site() -> Path:
    """Copy the browser files the book serves itself into book/vendor/site/vendor/."""
    modules = VENDOR / "node_modules"
    if not modules.is_dir():
        sys.exit(f"{modules} is missing: run `npm ci --ignore-scripts` in {VENDOR} (make book does this)")
    site = VENDOR / "site"
    shutil.rmtree(site, ignore_errors=True)
    for package, patterns, name in VENDOR_FILES:
        target = site / "vendor" / name
        target.mkdir(parents=True)
        for pattern in patterns:
            matches = sorted((modules / package).glob(pattern))
            if not matches:
                sys.exit(f"{modules / package}/{pattern} not found: is book/vendor/package.json installed?")
            for path in matches:
                if path.is_dir():
                    shutil.copytree(path, target / path.name)
                else:
                    shutil.copy2(path, target / path.name)
    return site


def chapters() -> list[Path]:
    """Notebooks listed in _toc.yml, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").exists()]


def source_hash(notebook: Path, parameters: dict) -> str:
    """Hash of what an executed chapter depends on: the notebook, its parameters, the library."""
    digest = hashlib.sha256(notebook.read_bytes())
    digest.update(repr(sorted(parameters.items())).encode())
    for path in sorted((ROOT / "img2imu_lib").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def execute(notebook: Path, target: Path, parameters: dict) -> bool:
    """Run one chapter with papermill unless an up-to-date executed copy exists; True on success."""
    key = source_hash(notebook, parameters)
    if target.exists():
        previous = nbformat.read(target, as_version=4).metadata.get("img2imu", {}).get("source_hash")
        if previous == key:
            print(f"{notebook.name}: unchanged since its last execution, kept")
            return True
    try:
        papermill.execute_notebook(
            str(notebook), str(target), parameters=parameters, cwd=str(notebook.parent),
            kernel_name="python3", progress_bar=False, request_save_on_cell_execute=False,
        )
    except papermill.PapermillExecutionError as err:
        print(f"{notebook.name} failed in cell {err.exec_count}: {err.ename}: {err.evalue}", file=sys.stderr)
        return False
    executed = nbformat.read(target, as_version=4)
    executed.metadata["img2imu"] = {"source_hash": key, "parameters": parameters}
    for cell in executed.cells:  # papermill's injected parameters are plumbing: folded like the other plumbing cells
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "hide-input" not in tags:
            tags.append("hide-input")
    executed.cells.append(timing_cell(executed.metadata["papermill"]["duration"], parameters))
    nbformat.write(executed, target)
    return True


def timing_cell(seconds: float, parameters: dict) -> nbformat.NotebookNode:
    """A closing note on how long the chapter took to execute, on what, with which profile."""
    minutes, rest = divmod(round(seconds), 60)
    machine = f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPU threads"
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    cell = nbformat.v4.new_markdown_cell(
        f"```{{note}}\nThis chapter executed in {minutes} min {rest} s ({machine}, profile "
        f"`{parameters['profile']}`, {when}), including any pre-training or feature extraction it did not find "
        f"cached.\n```")
    cell["id"] = "execution-time"
    return cell


def build_parser() -> argparse.ArgumentParser:
    """The build's options; ``--profile`` offers the names of ``img2imu_lib.book.profiles.PROFILES``."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu", choices=sorted(PROFILES), help="run size of every chapter")
    parser.add_argument("--out", default=str(ROOT), help="folder that receives _build/html (default: the repository)")
    parser.add_argument("--keep-going", action="store_true", help="attempt every chapter before failing")
    return parser


def main() -> int:
    args = build_parser().parse_args()

    out = Path(args.out).resolve()
    staging = out / "_build" / "src"
    vendor_site()
    for name in ("_config.yml", "_toc.yml"):
        (staging).mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, staging / name)
    shutil.rmtree(staging / "book", ignore_errors=True)
    shutil.copytree(ROOT / "book", staging / "book", ignore=shutil.ignore_patterns("node_modules", "package*.json"))

    failed = []
    for notebook in tqdm(chapters(), desc=f"executing chapters ({args.profile})", unit="chapter"):
        target = staging / notebook.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not execute(notebook, target, {"profile": args.profile}):
            failed.append(notebook.name)
            if not args.keep_going:
                break
    if failed:
        print(f"not building HTML: {', '.join(failed)} failed", file=sys.stderr)
        return 1

    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book), "build", str(staging), "--path-output", str(out), "-W", "--keep-going"]
    result = subprocess.run(command, check=False)
    if result.returncode == 0:
        print(f"book built: {out / '_build' / 'html' / 'index.html'}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
