"""Checks of parameters before they reach the numbers: the types of a config's fields, seeds, counts and rates.

A config written by hand, read from JSON or passed by papermill can hold ``2.5`` where a count is
meant, ``"40"`` for an epoch count or ``True`` for a size; Python would carry each a long way
before torch or numpy fails on it, or silently use it. ``check_field_types`` stops it at the
dataclass that receives it, naming the field, the value and the type its annotation asks for.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import types
import typing

SEED_LIMIT = 2**31  # seeds are scaled and offset (seed * 1,000,003 + group) and must stay within a 64-bit integer


def check_seed(seed: object, name: str = "seed") -> int:
    """``seed`` as an int, or a ValueError naming ``name``: seeds are whole numbers from 0 to 2**31 - 1."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"{name}={seed!r}; expected a whole number from 0 to {SEED_LIMIT - 1}")
    return int(seed)


def check_whole(value: object, name: str, *, least: int | None = None) -> int:
    """``value`` as an int: a TypeError naming ``name`` unless it is a whole number (an int or numpy integer, not a
    bool), a ValueError if it is below ``least``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}={value!r} ({type(value).__name__}); expected a whole number (int)")
    if least is not None and value < least:
        raise ValueError(f"{name}={value}; expected a whole number >= {least}")
    return int(value)


def check_rate(fs: object, name: str = "fs", *, within: tuple[float, float] | None = None) -> float:
    """``fs`` as a float, or an error naming it: a sampling rate in Hz is a finite number > 0 (not a bool), and
    from ``within[0]`` to ``within[1]`` where a range is given."""
    if isinstance(fs, bool) or not isinstance(fs, numbers.Real):
        raise TypeError(f"{name}={fs!r} ({type(fs).__name__}); expected a sampling rate in Hz, a number > 0")
    if within is not None and not (math.isfinite(fs) and within[0] <= fs <= within[1]):
        raise ValueError(f"{name}={fs}; expected a positive sampling rate in Hz, finite, from {within[0]:g} to "
                         f"{within[1]:g}")
    if not (math.isfinite(fs) and fs > 0):
        raise ValueError(f"{name}={fs!r}; expected a sampling rate in Hz, a finite number > 0")
    return float(fs)


def check_field_types(instance: object) -> None:
    """Raise a ValueError for the first field of the dataclass ``instance`` whose value does not match its
    annotation (int, float, str, bool, ``X | None``, ``tuple[X, ...]``, ``tuple[X, Y]``, dataclasses);
    numpy scalars in int and float fields are replaced by Python numbers and lists in tuple fields by
    tuples; floats must be finite.

    Annotations the check does not know (callables, ``object``) are not checked.
    """
    hints = typing.get_type_hints(type(instance))
    for f in dataclasses.fields(instance):
        value = getattr(instance, f.name)
        ok, plain = _matches(value, hints[f.name])
        if not ok:
            raise ValueError(f"{type(instance).__name__}.{f.name}={value!r} ({type(value).__name__}); "
                             f"expected {_describe(hints[f.name])}")
        if plain is not value:
            object.__setattr__(instance, f.name, plain)  # frozen dataclasses included


def _matches(value: object, hint: object) -> tuple[bool, object]:
    """(whether ``value`` fits ``hint``, the value with numpy scalars made Python numbers)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is bool:
        return isinstance(value, bool), value
    if hint is int:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        return ok, int(value) if ok else value
    if hint is float:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
        return ok, (float(value) if not isinstance(value, (int, float)) else value) if ok else value
    if hint is str:
        return isinstance(value, str), value
    if origin in (typing.Union, types.UnionType):
        for option in args:
            ok, plain = _matches(value, option)
            if ok:
                return True, plain
        return False, value
    if hint is type(None):
        return value is None, value
    if origin is tuple:
        if isinstance(value, list):  # JSON and YAML give lists
            ok, plain = _matches(tuple(value), hint)
            return ok, plain if ok else value
        if not isinstance(value, tuple):
            return False, value
        kinds = [args[0]] * len(value) if len(args) == 2 and args[1] is Ellipsis else list(args)
        if len(kinds) != len(value):
            return False, value
        checked = [_matches(v, k) for v, k in zip(value, kinds)]
        if not all(ok for ok, _ in checked):
            return False, value
        plain = tuple(p for _, p in checked)
        return True, value if all(p is v for p, v in zip(plain, value)) else plain
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return isinstance(value, hint), value
    return True, value  # not a kind this check knows


def _describe(hint: object) -> str:
    names = {bool: "True or False", int: "a whole number (int)", float: "a finite number", str: "a string",
             type(None): "None"}
    if hint in names:
        return names[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a tuple, each {_describe(args[0])}"
        return f"a tuple ({', '.join(_describe(a) for a in args)})"
    return f"a {hint.__name__}" if isinstance(hint, type) else str(hint)
