"""What the book build shows of a chapter's progress: the status line, the poller, the terminal and the log."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import nbformat

from img2imu_lib.progress import PROGRESS_ENV

from ..conftest import build_book_module


build_book = build_book_module()

TRAINING = {"desc": "pre-training img2imu", "n": 37, "total": 40, "elapsed": 81.2, "remaining": 12.4,
            "postfix": "loss=6.214", "closed": False, "outer": []}
BOUND = {"desc": "fully supervised image on hapt", "n": 13, "total": 50, "elapsed": 20.0, "remaining": 40.0,
         "postfix": "", "closed": False, "outer": [{"desc": "Table II", "n": 3, "total": 30}]}


def test_a_status_in_a_few_words():
    assert build_book.describe(TRAINING) == "pre-training img2imu 37/40, 00:12 left (loss=6.214)"
    assert build_book.describe(TRAINING, postfix=False) == "pre-training img2imu 37/40, 00:12 left"
    assert build_book.describe(BOUND) == "Table II 3/30 > fully supervised image on hapt 13/50, 00:40 left"
    assert build_book.describe({**TRAINING, "n": 40, "closed": True, "remaining": 0.0, "postfix": ""}) == \
        "pre-training img2imu 40/40, done"
    assert build_book.describe({"desc": "", "n": 7, "total": None, "remaining": None}) == "7"


def test_the_poller_passes_the_status_file_as_it_is(tmp_path):
    path, seen = tmp_path / "status.json", []
    with build_book.watching(path, seen.append, interval=0.01):
        time.sleep(0.1)
        path.write_text(json.dumps(TRAINING))
        time.sleep(0.1)
    assert seen[0] is None and seen[-1] == TRAINING
    count = len(seen)
    time.sleep(0.05)
    assert len(seen) == count  # the poller stops with the block


def test_the_terminal_shows_the_chapter_and_its_step_in_the_chapter_bar():
    out = io.StringIO()
    progress = build_book.ChapterProgress(9, "cpu", tty=True, out=out)
    progress.start(Path("notebooks/05_pretraining.ipynb"))
    progress.show(None)
    assert progress.bar.postfix == "05_pretraining.ipynb"
    progress.show(TRAINING)
    assert progress.bar.postfix == "05_pretraining.ipynb | pre-training img2imu 37/40, 00:12 left"
    assert "pre-training img2imu 37/40, 00:12 left" in out.getvalue()
    progress.close()


def test_a_log_gets_a_line_when_a_step_starts_and_at_most_every_30_s():
    out, now = io.StringIO(), [100.0]
    progress = build_book.ChapterProgress(9, "cpu", tty=False, out=out, clock=lambda: now[0])
    for _ in range(4):
        progress.start(Path("notebooks/01_motivation.ipynb"))
        progress.done(True)
    progress.start(Path("notebooks/05_pretraining.ipynb"))
    simsiam = {**TRAINING, "desc": "pre-training simsiam", "n": 1, "postfix": ""}
    table = {**BOUND["outer"][0], "n": 4, "remaining": None, "outer": []}
    for seconds, status in [(1, None), (2, TRAINING), (3, {**TRAINING, "n": 38}), (20, {**TRAINING, "n": 39}),
                            (33, {**TRAINING, "n": 40}),  # 30 s after the last line
                            (34, simsiam), (70, simsiam),  # a new step; then the same line again
                            (71, BOUND), (72, table), (73, {**BOUND, "n": 1}),  # its inner bar ends, another starts
                            (102, {**BOUND, "n": 2})]:
        now[0] = 100.0 + seconds
        progress.show(status)
    now[0] = 300.0
    progress.done(True)
    assert out.getvalue().splitlines()[-7:] == [
        "[5/9] 05_pretraining.ipynb",
        "[5/9] 05_pretraining.ipynb 00:02 | pre-training img2imu 37/40, 00:12 left (loss=6.214)",
        "[5/9] 05_pretraining.ipynb 00:33 | pre-training img2imu 40/40, 00:12 left (loss=6.214)",
        "[5/9] 05_pretraining.ipynb 00:34 | pre-training simsiam 1/40, 00:12 left",
        "[5/9] 05_pretraining.ipynb 01:11 | Table II 3/30 > fully supervised image on hapt 13/50, 00:40 left",
        "[5/9] 05_pretraining.ipynb 01:42 | Table II 3/30 > fully supervised image on hapt 2/50, 00:40 left",
        "[5/9] 05_pretraining.ipynb done after 03:20",
    ]


def notebook(tmp_path: Path, source: str) -> Path:
    book = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                             "language": "python"}})
    book.cells = [nbformat.v4.new_code_cell('profile = "cpu"', metadata={"tags": ["parameters"]}),
                  nbformat.v4.new_code_cell(source)]
    path = tmp_path / "chapter.ipynb"
    nbformat.write(book, path)
    return path


def test_the_kernel_reports_to_the_build_and_errors_still_fail_the_chapter(tmp_path, monkeypatch):
    """papermill's kernel inherits the status file: its bars (drawn nowhere) reach ``show``; an error in a cell
    returns False as before, and the variable is gone afterwards."""
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    source = ("import time\nfrom img2imu_lib.progress import progress_bar\n"
              "for _ in progress_bar(range(8), desc='probe run', disable=True):\n    time.sleep(0.4)\n")
    seen = []
    target = tmp_path / "out" / "chapter.ipynb"
    target.parent.mkdir()
    assert build_book.execute(notebook(tmp_path, source), target, {"profile": "smoke"}, show=seen.append)
    reported = [s for s in seen if s]
    assert reported and all(s["desc"] == "probe run" and s["total"] == 8 for s in reported)
    executed = nbformat.read(target, as_version=4)
    assert not [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]  # nothing drawn, no stderr
    assert executed.cells[-1].id == "execution-time"
    assert PROGRESS_ENV not in os.environ

    failing = notebook(tmp_path, "raise RuntimeError('broken chapter')")
    assert build_book.execute(failing, tmp_path / "out" / "failing.ipynb", {"profile": "smoke"}) is False
    assert PROGRESS_ENV not in os.environ
