"""Build the book: papermill executes every chapter, then Jupyter Book renders the executed copies.

    python tools/build_book.py --profile cpu        # the main job: HTML in _build/html
    python tools/build_book.py --profile smoke      # the same book in seconds (used by the tests)
    python tools/build_book.py -p seed 3            # every chapter with another value of one of its parameters

Sources stay read-only: executed notebooks go to _build/src/, a staging copy of the book
(config, prose pages, vendored browser files). A chapter whose notebook, profile and library
sources are unchanged since its last execution is not executed again. Any notebook error or
Sphinx warning fails the build; with --keep-going every chapter is still attempted first.

While a chapter runs, its kernel's progress bars report to a status file (``img2imu_lib.progress``),
which the build polls every second: on a terminal the chapter bar shows the chapter and the run or
step in progress inside it, with its time left; in a log, a plain line says so when a step starts
and at most every 30 seconds otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

import nbformat
import papermill
import yaml
from tqdm import tqdm

from img2imu_lib.book.profiles import PROFILES
from img2imu_lib.progress import PROGRESS_ENV, read_status

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


def say(message: str, file: TextIO | None = None) -> None:
    """Print a line above the chapter bar, if there is one, and flush it (logs are read as they grow)."""
    file = file or sys.stdout
    tqdm.write(message, file=file)
    file.flush()


def execute(notebook: Path, target: Path, parameters: dict,
            show: Callable[[dict | None], None] = lambda status: None) -> bool:
    """Run one chapter with papermill unless an up-to-date executed copy exists; True on success. While it
    runs, ``show`` gets the status of its progress bars every second (``img2imu_lib.progress``)."""
    key = source_hash(notebook, parameters)
    if target.exists():
        previous = nbformat.read(target, as_version=4).metadata.get("img2imu", {}).get("source_hash")
        if previous == key:
            say(f"{notebook.name}: unchanged since its last execution, kept")
            return True
    with tempfile.TemporaryDirectory(prefix="img2imu-progress-") as folder:
        status = Path(folder) / "status.json"
        os.environ[PROGRESS_ENV] = str(status)  # inherited by the kernel papermill starts
        try:
            with watching(status, show):
                papermill.execute_notebook(
                    str(notebook), str(target), parameters=parameters, cwd=str(notebook.parent),
                    kernel_name="python3", progress_bar=False, request_save_on_cell_execute=False,
                )
        except papermill.PapermillExecutionError as err:
            say(f"{notebook.name} failed in cell {err.exec_count}: {err.ename}: {err.evalue}", file=sys.stderr)
            return False
        finally:
            del os.environ[PROGRESS_ENV]
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


@contextlib.contextmanager
def watching(path: Path, show: Callable[[dict | None], None], interval: float = 1.0) -> Iterator[None]:
    """While the block runs, pass the status at ``path`` (None until there is one) to ``show`` every ``interval``
    seconds, from a thread."""
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(interval):
            show(read_status(path))

    thread = threading.Thread(target=poll, name="chapter progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def describe(status: dict, *, postfix: bool = True) -> str:
    """A chapter's status in a few words: ``Table II 3/30 > fully supervised image on hapt 13/50, 00:40 left``,
    then the innermost bar's postfix in parentheses (``postfix``)."""
    def count(bar: dict) -> str:
        done = f"{bar['n']}/{bar['total']}" if bar.get("total") else f"{bar['n']}"
        return f"{bar['desc']} {done}" if bar.get("desc") else done

    text = " > ".join(count(bar) for bar in [*status.get("outer", []), status])
    if status.get("closed"):
        text += ", done"
    elif status.get("remaining") is not None:
        text += f", {tqdm.format_interval(status['remaining'])} left"
    if postfix and status.get("postfix"):
        text += f" ({status['postfix']})"
    return text


class ChapterProgress:
    """What the build shows while it executes the chapters. On a terminal (``tty``), the chapter bar, its
    postfix the chapter and the run or step in progress inside it, refreshed at every ``show``. Elsewhere (a
    log), a plain line when a chapter starts and ends, when a step starts that the last line did not show (a
    bar ending, back to the one around it, waits), and otherwise at most every ``every`` seconds."""

    def __init__(self, chapters: int, profile: str, *, tty: bool, every: float = 30.0, out: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.chapters, self.tty, self.every, self.clock = chapters, tty, every, clock
        self.out = out or sys.stdout
        # no rate or time left for the chapters (they take 10 s to 20 min): the width goes to the postfix
        self.bar = tqdm(total=chapters, desc=f"executing chapters ({profile})", unit="chapter", file=self.out,
                        bar_format="{l_bar}{bar:10}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]", dynamic_ncols=True,
                        disable=not tty)
        self.index, self.name, self.started = 0, "", clock()
        self.task: tuple = ()  # the bars of the last line printed (desc of each, outermost first), and when
        self.printed, self.line = -float("inf"), ""

    def start(self, notebook: Path) -> None:
        self.index += 1
        self.name, self.started, self.task, self.line = notebook.name, self.clock(), (), ""
        self.bar.set_postfix_str(self.name)
        if not self.tty:
            say(f"[{self.index}/{self.chapters}] {self.name}", self.out)

    def show(self, status: dict | None) -> None:
        """The chapter's status, polled (None before its first progress bar)."""
        if self.tty:
            self.bar.set_postfix_str(f"{self.name} | {describe(status, postfix=False)}" if status else self.name)
            return
        if status is None:
            return
        now, line = self.clock(), describe(status)
        task = tuple(bar["desc"] for bar in [*status.get("outer", []), status])
        if task != self.task[:len(task)] or (now - self.printed >= self.every and line != self.line):
            say(f"[{self.index}/{self.chapters}] {self.name} {tqdm.format_interval(now - self.started)} | {line}",
                self.out)
            self.task, self.printed, self.line = task, now, line

    def done(self, ok: bool) -> None:
        self.bar.update(1)
        if not self.tty:
            say(f"[{self.index}/{self.chapters}] {self.name} {'done' if ok else 'failed'} after "
                f"{tqdm.format_interval(self.clock() - self.started)}", self.out)

    def close(self) -> None:
        self.bar.close()


def build_parser() -> argparse.ArgumentParser:
    """The build's options; ``--profile`` offers the names of ``img2imu_lib.book.profiles.PROFILES``."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu", choices=sorted(PROFILES), help="run size of every chapter")
    parser.add_argument("--out", default=str(ROOT), help="folder that receives _build/html (default: the repository)")
    parser.add_argument("--keep-going", action="store_true", help="attempt every chapter before failing")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a parameter given to every chapter, as papermill's -p (VALUE read as YAML: 3 is an int)")
    return parser


def chapter_parameters(args: argparse.Namespace) -> dict:
    """The parameters every chapter is executed with: the profile, then any ``-p NAME VALUE``."""
    parameters = {"profile": args.profile}
    for name, value in args.parameter:
        if name == "profile":
            raise SystemExit("give the profile with --profile, not -p profile")
        parameters[name] = yaml.safe_load(value)
    return parameters


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

    parameters = chapter_parameters(args)
    notebooks = chapters()
    progress = ChapterProgress(len(notebooks), args.profile, tty=sys.stdout.isatty())
    failed = []
    for notebook in notebooks:
        target = staging / notebook.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        progress.start(notebook)
        ok = execute(notebook, target, parameters, show=progress.show)
        progress.done(ok)
        if not ok:
            failed.append(notebook.name)
            if not args.keep_going:
                break
    progress.close()
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
