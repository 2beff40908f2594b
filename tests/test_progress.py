"""Progress bars report their status to ``$IMG2IMU_PROGRESS``, atomically, and are plain tqdm without it."""

from __future__ import annotations

import json
import threading
import time
import warnings
from pathlib import Path

import pytest
import tqdm.auto

from img2imu_lib import progress
from img2imu_lib.progress import PROGRESS_ENV, progress_bar, read_status

FIELDS = {"desc", "n", "total", "elapsed", "remaining", "postfix", "closed", "outer"}


def cancel_pending_write() -> None:
    if progress._pending is not None:
        progress._pending.cancel()
        progress._pending = None


@pytest.fixture(autouse=True)
def no_pending_write():
    """Each test starts and ends without a write scheduled (at its own interval) by another."""
    cancel_pending_write()
    yield
    cancel_pending_write()


@pytest.fixture
def status(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "status.json"
    monkeypatch.setenv(PROGRESS_ENV, str(path))
    return path


@pytest.fixture
def every_refresh(monkeypatch) -> None:
    """Write at every refresh instead of at most once a second."""
    monkeypatch.setattr(progress, "INTERVAL", 0.0)


def test_without_the_variable_a_bar_is_tqdm_auto_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    for disable in (False, True):
        bar = progress_bar(range(3), desc="plain", disable=disable)
        assert type(bar) is tqdm.auto.tqdm
        assert list(bar) == [0, 1, 2]
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("disable", [False, True], ids=["shown", "disabled"])
def test_a_bar_writes_its_status_when_it_opens_and_closes(status, disable):
    with progress_bar(total=4, desc="pre-training img2imu", disable=disable) as bar:
        assert read_status(status) == {"desc": "pre-training img2imu", "n": 0, "total": 4, "elapsed": 0.0,
                                       "remaining": None, "postfix": "", "closed": False, "outer": []}
        for step in range(4):
            bar.update(1)
            bar.set_postfix(loss=f"{6 - step:.3f}")
    written = json.loads(status.read_text())
    assert set(written) == FIELDS
    assert written["n"] == written["total"] == 4 and written["closed"] and written["remaining"] == 0.0
    assert written["postfix"] == "loss=3.000" and written["elapsed"] >= 0


def test_a_disabled_bar_draws_nothing_and_warns_of_nothing(status, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sum(progress_bar(range(5), desc="hidden", disable=True)) == 10
    assert capsys.readouterr() == ("", "")
    assert read_status(status)["n"] == 5


def test_remaining_comes_from_the_rate(status, every_refresh):
    with progress_bar(total=10, desc="steps", disable=True, mininterval=0) as bar:
        time.sleep(0.05)
        bar.update(5)
        remaining = read_status(status)["remaining"]
        assert remaining is not None and 0 < remaining < 5  # five more steps at about 0.01 s each


def test_the_innermost_open_bar_is_reported_with_the_bars_around_it(status, every_refresh):
    with progress_bar(total=2, desc="Table II", disable=True, mininterval=0) as outer:
        outer.update(1)
        with progress_bar(total=50, desc="fully supervised image on hapt", disable=True, mininterval=0) as inner:
            inner.update(13)
            written = read_status(status)
            assert (written["desc"], written["n"], written["total"]) == ("fully supervised image on hapt", 13, 50)
            assert written["outer"] == [{"desc": "Table II", "n": 1, "total": 2}]
        written = read_status(status)
        assert (written["desc"], written["n"], written["outer"], written["closed"]) == ("Table II", 1, [], False)
    assert read_status(status)["closed"]


def test_writes_come_at_most_once_an_interval_and_the_last_change_follows(status, monkeypatch):
    monkeypatch.setattr(progress, "INTERVAL", 0.3)
    writes = []
    original = progress.atomic_path

    def counted(path):
        writes.append(time.monotonic())
        return original(path)

    monkeypatch.setattr(progress, "atomic_path", counted)
    with progress_bar(total=100, desc="fast", disable=True, mininterval=0) as bar:
        for _ in range(30):
            bar.update(1)
            time.sleep(0.005)
        assert len(writes) == 1  # when it opened; the updates since came within the interval
        time.sleep(0.5)
        assert read_status(status)["n"] == 30  # the last change, written when the interval ended
    assert len(writes) == 3  # open, the pending change, close
    assert read_status(status)["closed"]


def test_a_reader_always_finds_whole_json(status, every_refresh):
    stop = threading.Event()

    def work() -> None:
        with progress_bar(total=10**9, desc="x" * 2000, disable=True, mininterval=0) as bar:
            while not stop.is_set():
                bar.update(1)
                bar.set_postfix_str("y" * (bar.n % 3000))

    worker = threading.Thread(target=work)
    worker.start()
    try:
        reads = 0
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            if status.exists():
                json.loads(status.read_text())  # never a half-written file
                reads += 1
    finally:
        stop.set()
        worker.join()
    assert reads > 10
    assert read_status(status)["closed"]


def test_read_status_is_none_without_a_whole_status(tmp_path):
    assert read_status(tmp_path / "missing.json") is None
    (tmp_path / "half.json").write_text('{"desc": "pre-tr')
    assert read_status(tmp_path / "half.json") is None
