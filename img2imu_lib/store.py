"""The store: the cache folder, file hashes, atomic writes and run records.

Everything the library keeps between runs goes under one folder (``cache_dir``). Every file it
writes there is written to a temporary name beside its target and renamed into place
(``atomic_path``), so a crash never leaves half a file. Run records are one small JSON file per
result, the only source of every number the book prints: what was run (stage, method,
dataset, parameters), on what (the data's and the checkpoint's fingerprints), the result,
and how (commit, wall time, date, machine). A record's file name ends in a hash of
everything that determines the result, so a repeated call with the same inputs finds the
record and reuses it, and an interrupted evaluation resumes where it stopped.
``load_records`` reads them back for the results log.

This module imports no other module of the library: every stage may use it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

CACHE_ENV = "IMG2IMU_CACHE"


def cache_dir() -> Path:
    """Where downloads, runs, features and records are kept: ``$IMG2IMU_CACHE``, else ``~/.cache/img2imu``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "img2imu")


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes, as 64 hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write a file or a folder to; renamed onto ``path`` when the block
    ends without an error, removed when it raises: a crash never leaves half a file at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    _remove(temporary)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        _remove(temporary)


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the temporaries ``atomic_path`` left in ``folder`` when its process was killed mid-write
    (``.<name>.tmp-<pid>`` whose process no longer runs); returns what it removed. Those of running processes
    are kept."""
    removed = []
    for path in sorted(Path(folder).glob(".*.tmp-*")):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _running(int(pid)):
            _remove(path)
            removed.append(path)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process writes none while it starts a run
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def save_atomic(obj: object, path: Path) -> None:
    """Write ``obj`` to ``path`` atomically: a ``str`` as text (records), anything else with ``torch.save``."""
    with atomic_path(path) as temporary:
        if isinstance(obj, str):
            temporary.write_text(obj)
        else:
            import torch

            torch.save(obj, temporary)


class UnreadableFile(ValueError):
    """A file the library reads is damaged, cut short, of another kind, or asks to run code."""


def load_tensors(path: Path, *, what: str = "PyTorch file") -> object:
    """The contents of a ``torch.save`` file (checkpoints, state dicts, cached features): the one place the
    library reads one, always with ``weights_only=True``.

    Only tensors, numbers, strings and the containers of them are rebuilt; a pickle that names any other
    callable (``os.system``, a class of some package) is refused before anything runs. Errors are an
    ``UnreadableFile`` naming the file, saying what was expected (``what``) and what was wrong.
    """
    import pickle

    import torch

    import warnings

    path = Path(path)
    try:
        with warnings.catch_warnings():  # "pickle protocol 4": a plain pickle, refused below if it names code
            warnings.filterwarnings("ignore", "Detected pickle protocol", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except pickle.UnpicklingError as err:
        raise UnreadableFile(f"{path}: not a {what} this library opens: {_refusal(err)}; nothing in it was run. "
                             f"Only tensors, numbers, strings and lists or dicts of them are read") from err
    except Exception as err:  # torch raises several types (RuntimeError, EOFError, ...) for damaged files
        raise UnreadableFile(f"{path}: not a readable {what}, cut short or damaged ({type(err).__name__}: "
                             f"{first_line(err)})") from err


def _refusal(err: BaseException) -> str:
    """What torch's weights-only unpickler refused, without its advice to load the file unsafely."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    kept = [line for line in lines[1:] if not line.startswith(("Check the documentation", "Please file an issue"))]
    kept = [line.removeprefix("WeightsUnpickler error:").strip() for line in kept]
    reason = "; ".join(line for line in kept if line) or "not a torch.save file"
    if "GLOBAL" in reason:
        return f"it asks for Python code or classes ({reason})"
    return f"it holds pickle instructions that are not plain data ({reason})"


def load_cached_tensors(path: Path) -> object | None:
    """A cache file's contents (``load_tensors``), or None after removing it when it cannot be read (a file cut
    short by a crash, or planted): the caller computes it again. The removal is reported as a warning."""
    try:
        return load_tensors(path, what="cached tensor file")
    except UnreadableFile as err:
        import warnings

        warnings.warn(f"{err}; removed it, computing it again", RuntimeWarning, stacklevel=2)
        Path(path).unlink(missing_ok=True)
        return None


def first_line(err: BaseException) -> str:
    """The first line of what ``err`` says (its type's name if it says nothing), for one-line messages."""
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def commit() -> str:
    """The git commit of the library's checkout, or ``unknown`` outside one."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def records_dir(profile: str) -> Path:
    """``<cache>/records/<profile>``: where the evaluation of a profile keeps its records."""
    return cache_dir() / "records" / profile


def record_key(inputs: dict) -> str:
    """A 16-hex-digit hash of ``inputs`` (JSON-serialisable, key order ignored)."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=_plain).encode()).hexdigest()[:16]


def _plain(value: object) -> object:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot store {type(value).__name__} in a record")


def cached_record(folder: Path, stage: str, name: str, inputs: dict, compute: Callable[[], dict]) -> dict:
    """The record of ``stage``/``name`` for ``inputs``: read back if it exists, else ``compute()``d and written.

    ``compute`` returns the result fields; this adds the inputs, the key, the commit, the wall
    time, the date and the machine, and writes the file atomically.
    """
    key = record_key({"stage": stage, "name": name, **inputs})
    path = folder / stage / f"{_slug(name)}-{key}.json"
    if path.exists():
        try:
            record = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            record = None
        if isinstance(record, dict) and record.get("key") == key:
            return record
        path.unlink()  # a file cut short by a crash, or not this record: compute it again
    start = time.perf_counter()
    result = compute()
    record = {"stage": stage, "name": name, **inputs, **result, "key": key, "commit": commit(),
              "wall_seconds": round(time.perf_counter() - start, 3),
              "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()}, {platform.processor() or platform.system()}"}
    save_atomic(json.dumps(record, indent=1, default=_plain), path)
    return json.loads(path.read_text())


def load_records(folder: Path) -> list[dict]:
    """Every record under ``folder``, oldest first, each with its ``file``."""
    records = []
    for path in sorted(folder.rglob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise UnreadableFile(f"{path}: not a record, cut short or damaged ({err}); delete it and run the "
                                 f"chapter that makes it again") from err
        if not isinstance(record, dict):
            raise UnreadableFile(f"{path}: holds a JSON {type(record).__name__}; expected a record (a JSON object)")
        record["file"] = str(path.relative_to(folder))
        records.append(record)
    return sorted(records, key=lambda r: r.get("created", ""))


def write_used(folder: Path, chapter: str, records: list[dict]) -> Path:
    """Note which records a chapter's tables were built from (``<folder>/used/<chapter>.txt``, one key a line)."""
    path = folder / "used" / f"{chapter}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{key}\n" for key in sorted({r["key"] for r in records})))
    return path


def read_used(folder: Path, chapter: str) -> set[str]:
    """The keys ``write_used`` noted for ``chapter`` (empty if it never ran)."""
    path = folder / "used" / f"{chapter}.txt"
    return set(path.read_text().split()) if path.exists() else set()


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
