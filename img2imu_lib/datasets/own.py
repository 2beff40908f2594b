"""Bring your own recordings: wrap arrays, or read a CSV of tri-axial samples, as ``Recording``s.

CSV layout (one header row, any column order, extra columns ignored)::

    subject,session,x,y,z,label
    1,0,0.02,-0.98,0.11,walking

``x, y, z`` in g, ``label`` a class name, one row per sample at a constant rate ``fs`` given by
the caller. Everything downstream (windows, splits, images) then works as for the published datasets.

Labels (``from_arrays`` and the ``label`` column alike) follow ``datasets.labels``: class names
are strings or whole numbers (``0`` is a class); ``None``, NaN, -1 and the strings ``""``,
``nan``, ``NA``, ``N/A``, ``None``, ``null`` mean unlabelled, and each recording's
``meta["unlabelled"]`` counts those samples by how their label was written.

``read_csv`` reads by these rules; a break of any is a ValueError naming the file and line:

* the text is UTF-8 (a byte-order mark is dropped; pass ``encoding`` for another); fields are
  separated by ``delimiter`` (``,``; a header separated by ``;`` or a tab says so); Windows line
  ends and quoted fields are fine;
* header names are matched ignoring case and surrounding spaces; each required column appears once;
* every row has as many fields as the header;
* blank lines (or rows of empty fields) at the end are ignored; one between rows is an error:
  each row is one sample at the constant rate, so a lost row would shift every later sample;
* subject and session are whole numbers; x, y, z finite numbers with a decimal point (an empty
  cell, ``NA`` or ``nan`` is an error for the same reason);
* a recording's rows (one subject and session) are consecutive and in time order: rows of a
  recording that resume after another recording's are an error. Timestamp columns are not read.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..checks import check_rate
from .labels import WHOLE, class_names, class_order, label_codes, label_names
from .paths import check_file
from .recording import Recording

REQUIRED = ("subject", "session", "x", "y", "z", "label")


def _signal(signal: np.ndarray) -> np.ndarray:
    try:
        x = np.asarray(signal, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise ValueError(f"signal: {err}; expected numbers (T, 3), acceleration in g") from err
    if x.ndim != 2 or x.shape[1] != 3:
        hint = (" (it looks transposed: pass signal.T)" if x.ndim == 2 and x.shape[0] == 3 else
                " (with 6 columns, pass the accelerometer's three, e.g. signal[:, :3])" if x.ndim == 2 and x.shape[1] == 6 else "")
        raise ValueError(f"signal has shape {x.shape}; expected (T, 3): x, y, z acceleration in g{hint}")
    return x


def _build(signal: np.ndarray, names: list[str | None], unlabelled: Counter, classes: tuple[str, ...], **fields) -> Recording:
    if len(names) != len(signal):
        raise ValueError(f"{len(names)} labels for {len(signal)} samples; expected one label per sample")
    meta = {**fields.pop("meta", {}), "unlabelled": dict(unlabelled)}
    return Recording(signal=signal, labels=label_codes(names, classes), classes=classes, meta=meta, **fields)


def from_arrays(
    signal: np.ndarray, labels: Sequence[object], *, fs: float, subject: int, session: int = 0,
    classes: Sequence[object] | None = None, name: str = "own",
) -> Recording:
    """One recording from samples (T, 3) in g and per-sample labels (T,): class names, or None / NaN / -1
    where unlabelled (rules in ``datasets.labels``). ``classes`` fixes the names and their order;
    ``meta["unlabelled"]`` of the result counts the unlabelled samples by how their label was written."""
    fs = check_rate(fs)
    names, unlabelled = label_names(labels)
    classes = class_names(classes) if classes is not None else tuple(sorted({n for n in names if n is not None}, key=class_order))
    return _build(_signal(signal), names, unlabelled, classes, dataset=name, subject=subject, session=session, fs=fs)


def _read_text(path: Path, encoding: str) -> str:
    data = check_file(path, "a CSV file with columns " + ",".join(REQUIRED)).read_bytes()
    if data.startswith(b"PK\x03\x04"):
        raise ValueError(f"{path}: is a zip archive (an .xlsx workbook?), not a CSV file; export it as CSV")
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise ValueError(f"{path}:{line}: byte {data[err.start:err.start + 1]!r} is not {encoding}; "
                         "save the file as UTF-8 or pass its encoding (e.g. encoding='latin-1')") from err
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise ValueError(f"{path}:{line}: holds a NUL character; expected text (a UTF-16 export? pass encoding='utf-16')")
    return text


def _header(path: Path, header: list[str], delimiter: str) -> dict[str, int]:
    """Column index of each required column."""
    header = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        other = [s for s in (";", "\t", ",", "|") if s != delimiter and len(header) == 1 and s in header[0]]
        hint = f"; its fields are separated by {other[0]!r}: pass delimiter={other[0]!r}" if other else ""
        raise ValueError(f"{path}:1: missing columns {missing}; expected {', '.join(REQUIRED)} (the header is {header[:12]}){hint}")
    repeated = [c for c in REQUIRED if header.count(c) > 1]
    if repeated:
        raise ValueError(f"{path}:1: columns {repeated} appear more than once; expected each once")
    return {c: header.index(c) for c in REQUIRED}


def _number(text: str, column: str, where: str, whole: bool = False) -> float:
    try:
        value = float(text) if not whole or WHOLE.fullmatch(text.strip()) else None
    except ValueError:
        value = None
    if value is None or not math.isfinite(value):
        hint = " (write numbers with a decimal point and no thousands separator: 1234.5, not 1234,5 or 1,234.5)" if "," in text else ""
        raise ValueError(f"{where}: {column} {text!r}; expected {'a whole number' if whole else 'a finite number'}{hint}")
    return value


def _rows(path: Path, rows, header: list[str], fs: float) -> tuple[dict, dict]:
    """The samples (x, y, z, label) of each (subject, session) and its first and last line, by the rules above."""
    column = _header(path, header, rows.dialect.delimiter)
    groups: dict[tuple[int, int], list[tuple[float, float, float, str]]] = {}
    lines: dict[tuple[int, int], tuple[int, int]] = {}
    last, blank, end = None, None, 1  # end: the last line of the row before
    for row in rows:
        where, start, end = f"{path}:{rows.line_num}", end + 1, rows.line_num
        if start != end:
            raise ValueError(f"{path}:{start}: a quoted field runs on to line {end} (a quote not closed?); expected one row per line")
        if not any(f.strip() for f in row):
            blank = blank or end
            continue
        if blank:
            raise ValueError(f"{path}:{blank}: blank line between samples; expected one row per sample at fs={fs} Hz "
                             "(delete the line if no sample is missing there)")
        if len(row) != len(header):
            split = (" (an unquoted decimal comma or thousands separator splits a number in two)"
                     if len(row) > len(header) and rows.dialect.delimiter == "," else "")
            raise ValueError(f"{where}: {len(row)} fields; expected {len(header)} as in the header "
                             f"({rows.dialect.delimiter.join(header)}){split}")
        key = tuple(int(_number(row[column[c]], c, where, whole=True)) for c in ("subject", "session"))
        if key != last and key in groups:
            raise ValueError(f"{where}: subject {key[0]} session {key[1]} resumes after other rows (its rows so far end at line "
                             f"{lines[key][1]}); expected each recording's rows together, in time order")
        groups.setdefault(key, []).append((*(_number(row[column[a]], a, where) for a in "xyz"), row[column["label"]]))
        lines[key] = (lines.get(key, (rows.line_num,))[0], rows.line_num)
        last = key
    return groups, lines


def read_csv(path: str | Path, *, fs: float, name: str = "own", encoding: str = "utf-8",
             delimiter: str = ",") -> list[Recording]:
    """Recordings from a CSV in the layout above, one per subject and session, sharing one class list;
    any row breaking the rules of the module docstring is an error naming the file and line."""
    fs, path = check_rate(fs), Path(path)
    text = _read_text(path, encoding)
    if not text.strip():
        raise ValueError(f"{path}: the file is empty; expected a header row {','.join(REQUIRED)} and one row per sample")
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(rows)
    if not any(h.strip() for h in header):
        raise ValueError(f"{path}:1: blank line; expected the header row {','.join(REQUIRED)}")
    groups, lines = _rows(path, rows, header, fs)
    if not groups:
        raise ValueError(f"{path}: no samples after the header")
    labelled = {key: label_names([s[3] for s in samples]) for key, samples in groups.items()}
    classes = tuple(sorted({n for names, _ in labelled.values() for n in names if n is not None}, key=class_order))
    return [_build(np.array([s[:3] for s in samples], dtype=np.float32), *labelled[key], classes, dataset=name,
                   subject=key[0], session=key[1], fs=fs, meta={"file": path.name, "lines": lines[key]})
            for key, samples in sorted(groups.items())]
