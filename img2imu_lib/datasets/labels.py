"""What a label written by a user means: a class name, or unlabelled. One rule for every dtype.

A class is named by a string or a whole number: ``3``, ``3.0``, ``"3"`` and ``"3.0"`` all name
class ``"3"``, ``True`` names ``"True"``; strings are stripped of surrounding spaces, and
whole-number names sort by value (``"2"`` before ``"10"``), before the other names.

A sample is *unlabelled* when its label is ``None``, NaN (``float("nan")``, ``np.nan``,
``pandas.NA``), the number -1 (the code ``Recording.labels`` uses for it, as scikit-learn does), or
a string that is empty or spells one of these: ``nan``, ``NA``, ``N/A``, ``None``, ``null`` (any
case), ``-1``. Nothing else is: ``0``, ``False`` and ``"0"`` are class names. ``label_names``
counts the unlabelled samples by how their label was written (``{"None": 3, "'NA'": 2}``), so a
column of ``"nan"`` strings is reported rather than silently dropped.

Any other label (a float that is not whole, bytes, a list) is an error naming the sample.
"""

from __future__ import annotations

import math
import numbers
import re
import sys
from collections import Counter
from collections.abc import Sequence

import numpy as np

MISSING_LABELS = frozenset({"", "nan", "na", "n/a", "none", "null"})  # strings meaning unlabelled, lower-cased
WHOLE = re.compile(r"[+-]?\d+(\.0*)?")  # a whole number written in decimal: "3", "-1", "3.0"


def label_name(label: object, where: str = "label") -> str | None:
    """The class name ``label`` writes, or None where it means unlabelled (rules in the module docstring)."""
    pandas = sys.modules.get("pandas")
    if label is None or (pandas is not None and label is pandas.NA):
        return None
    if isinstance(label, str):
        name = label.strip()
        if name.lower() in MISSING_LABELS:
            return None
        return label_name(int(float(name)), where) if WHOLE.fullmatch(name) else name
    if isinstance(label, (bool, np.bool_)):
        return str(bool(label))
    if isinstance(label, numbers.Integral):
        return None if label == -1 else str(int(label))
    if isinstance(label, numbers.Real):
        if math.isnan(label):
            return None
        if not float(label).is_integer():
            raise ValueError(f"{where}: label {label!r} is not a whole number; expected a class name or a whole number")
        return label_name(int(label), where)
    raise TypeError(f"{where}: label {label!r} ({type(label).__name__}); expected a class name (str), "
                    "a whole number, or None / NaN where unlabelled")


def label_names(labels: Sequence[object]) -> tuple[list[str | None], Counter]:
    """Per-sample class names (None: unlabelled) of ``labels`` (T,), and the unlabelled counts by spelling."""
    if isinstance(labels, (str, bytes)):
        raise TypeError(f"labels is one {type(labels).__name__} ({labels[:20]!r}); expected one label per sample")
    values = np.asarray(labels, dtype=object)
    if values.ndim != 1:
        raise ValueError(f"labels have shape {values.shape}; expected (T,), one label per sample (try .ravel())")
    names: list[str | None] = []
    seen: dict[tuple[type, object], str | None] = {}  # label -> name, so each distinct label is parsed once
    unlabelled: Counter = Counter()
    for i, label in enumerate(values.tolist()):
        try:
            name = seen[(type(label), label)]
        except KeyError:
            name = seen[(type(label), label)] = label_name(label, f"labels[{i}]")
        except TypeError:  # unhashable, e.g. a list: label_name says why it is not a label
            name = label_name(label, f"labels[{i}]")
        if name is None:
            unlabelled[repr(label) if isinstance(label, str) else str(label)] += 1
        names.append(name)
    return names, unlabelled


def class_order(name: str) -> tuple[int, int, str]:
    """Sort key of class names: whole numbers by value first, then the other names alphabetically."""
    return (0, int(name), name) if WHOLE.fullmatch(name) else (1, 0, name)


def class_names(classes: Sequence[object]) -> tuple[str, ...]:
    """``classes`` as distinct class names by the same rules; an error for a name meaning unlabelled."""
    if isinstance(classes, str):
        raise TypeError(f"classes={classes!r} is one string; expected a sequence of class names")
    names = [label_name(c, f"classes[{i}]") for i, c in enumerate(classes)]
    if None in names:
        raise ValueError(f"classes[{names.index(None)}]={list(classes)[names.index(None)]!r} means unlabelled; expected a class name")
    repeated = sorted(n for n, k in Counter(names).items() if k > 1)
    if repeated:
        raise ValueError(f"classes {list(classes)} name {repeated} more than once; expected distinct names")
    return tuple(names)


def label_codes(names: list[str | None], classes: tuple[str, ...]) -> np.ndarray:
    """(T,) int64 index of each name into ``classes``, -1 for None; an error names labels not in ``classes``."""
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted({n for n in names if n is not None and n not in index}, key=class_order)
    if unknown:
        indices = all(WHOLE.fullmatch(n) and 0 <= int(n) < len(classes) for n in unknown)
        hint = " (whole-number labels name classes, they are not indices: pass [classes[i] for i in labels])" if indices else ""
        raise ValueError(f"labels {unknown} are not in classes {list(classes)}{hint}")
    return np.array([index[n] if n is not None else -1 for n in names], dtype=np.int64)
