"""Where data files are looked for: one search path for every dataset, and the check that a file is there.

In order: the folders passed by the caller (a notebook's ``data_dir`` parameter), the folders
in the ``IMG2IMU_DATA`` environment variable (separated by ``os.pathsep``), then a ``shared/data``
folder beside the repository, where this project's CI keeps real recordings for tests.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

ENV_VAR = "IMG2IMU_DATA"
_REPO = Path(__file__).resolve().parents[1]


def data_search_path(extra: Sequence[str | Path] = ()) -> list[Path]:
    """The folders searched for data, first match wins (see the module docstring)."""
    folders = [Path(p) for p in extra if str(p)]
    folders += [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    folders += [_REPO.parent / "shared" / "data", Path.cwd().parent / "shared" / "data", Path.cwd().parent.parent / "shared" / "data"]
    unique: list[Path] = []
    for folder in folders:
        if folder.resolve() not in [u.resolve() for u in unique]:
            unique.append(folder)
    return unique


def find_data(relative: str | Path, extra: Sequence[str | Path] = ()) -> Path | None:
    """The first ``folder / relative`` that exists on the search path, or None."""
    for folder in data_search_path(extra):
        candidate = folder / relative
        if candidate.exists():
            return candidate
    return None


def require_data(relative: str | Path, extra: Sequence[str | Path] = (), *, how_to_get: str = "") -> Path:
    """Like ``find_data`` but raise ``FileNotFoundError`` listing where it looked and how to get it."""
    found = find_data(relative, extra)
    if found is None:
        looked = ", ".join(str(f) for f in data_search_path(extra))
        raise FileNotFoundError(
            f"{relative} not found in the data search path ({looked}). Put it in one of these folders "
            f"or add its folder to ${ENV_VAR}. {how_to_get}".strip()
        )
    return found


def check_file(path: Path, expected: str) -> Path:
    """``path`` if it is a file; otherwise FileNotFoundError or IsADirectoryError naming it and ``expected``
    (what the caller wanted, e.g. ``"a CSV file of subject,session,x,y,z,label"``)."""
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; expected {expected}")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file; expected {expected}")
    return path
