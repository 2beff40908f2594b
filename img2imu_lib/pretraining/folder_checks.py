"""What the check of an image folder found, kept so that a folder is decoded once.

``check_images`` keeps what the check of an image folder found (``image_files.check_image``: it
decodes and hashes every file, about 1 ms a file, 20 minutes for ImageNet's 1.28 million) so that
a folder is decoded once, not each time a corpus is made of it (by each process of a run):

* Where. One JSON file per folder, ``<directory>/checked-<16 hex digits>.json``, named by a hash
  of the folder's resolved path; written atomically (``store.save_atomic``) when anything in it
  changed, even when the check is interrupted.
* What. For each file, by its resolved path (relative to the folder's where it lies below it):
  its size and modification time (ns) when checked, then ``sha256, pixels`` if it was readable or
  ``null, reason, PIL.Image.MAX_IMAGE_PIXELS`` if it was skipped. A file is checked again when
  its size or modification time differ, when it was modified within ``RECENT_NS`` of its check
  (it may have changed again with both unchanged), when it has more pixels than the present limit,
  or, skipped, when the limit differs. Only the image's own faults are kept: a file that could
  not be opened (permissions, a broken link) is tried again each time.
* Trust. The file only ever says "readable, with this SHA-256" or "skipped, for this reason" of
  files found in the folder: a file it does not name is checked, and one damaged, of another
  format, Pillow version or ``ImageFile.LOAD_TRUNCATED_IMAGES``, or for another folder is ignored
  and written again. A readable file that later fails is still caught where it is read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import time
from pathlib import Path

import PIL
from PIL import Image, ImageFile

from ..progress import progress_bar
from ..store import save_atomic
from .image_files import CheckedImage, UnreadableImage, check_image, skip_reason

CHECK_FORMAT = 1  # bump when what check_image accepts or records changes: older check caches are then ignored
RECENT_NS = 2 * 10**9  # a file modified this close before its check is checked again next time (see above)
log = logging.getLogger(__name__)


def check_images(root: Path, paths: list[Path], directory: Path, *, progress: bool = False,
                 desc: str = "checking") -> dict[Path, CheckedImage | str]:
    """``check_image`` of each of ``paths`` (files found below ``root``), in order: what it found, or why the
    file is skipped (the file named first), reusing and updating the results kept in ``directory``."""
    real_root = os.path.realpath(root)
    cache = check_cache_path(root, directory)
    header = {"format": CHECK_FORMAT, "root": real_root, "pillow": PIL.__version__,
              "load_truncated_images": bool(ImageFile.LOAD_TRUNCATED_IMAGES)}
    kept, valid = _load_checks(cache, header)
    results, checked, folders = {}, {}, {}
    try:
        for path in progress_bar(paths, desc=desc, unit="image", disable=not progress):
            key, size_mtime = _key_and_stat(path, real_root, folders)
            results[path] = _reused(kept.get(key), path, size_mtime) if key else None
            if results[path] is None:
                results[path], entry = _check(path, size_mtime)
                if key and entry:
                    checked[key] = entry
            elif key:
                checked[key] = kept[key]
    finally:  # what was checked is kept, even when the check is interrupted
        if not valid or checked != kept:
            try:
                save_atomic(json.dumps({**header, "files": checked}, separators=(",", ":")), cache)
            except OSError as err:
                log.warning("%s: could not keep the results of the check (%s); the folder is checked again next time",
                            cache, err)
    return results


def check_cache_path(root: Path, directory: Path) -> Path:
    """Where the results of checking the image folder ``root`` are kept: by a hash of its resolved path."""
    return Path(directory) / f"checked-{hashlib.sha256(os.path.realpath(root).encode()).hexdigest()[:16]}.json"


def _load_checks(cache: Path, header: dict) -> tuple[dict[str, list], bool]:
    """The entries of ``cache`` and whether it is one for ``header``; ({}, False) if it is absent or not."""
    try:
        data = json.loads(cache.read_text())
    except FileNotFoundError:
        return {}, False
    except (OSError, ValueError) as err:  # ValueError: not JSON, not UTF-8
        log.warning("%s: not a readable check cache (%s: %s); checking the files again", cache, type(err).__name__, err)
        return {}, False
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict) or \
            {k: data.get(k) for k in header} != header:
        log.info("%s: a check cache of another folder, format or Pillow; checking the files again", cache)
        return {}, False
    return data["files"], True


def _key_and_stat(path: Path, real_root: str, folders: dict[str, str]) -> tuple[str | None, tuple[int, int] | None]:
    """The resolved path of ``path`` (relative to ``real_root`` below it) and its (size, mtime in ns); (None,
    None) if it cannot be found. ``folders`` keeps the resolved folders: one system call per file not a link."""
    try:
        found = os.lstat(path)
        if stat.S_ISLNK(found.st_mode):
            real, found = os.path.realpath(path), os.stat(path)
        else:
            parent = os.path.dirname(path)
            if parent not in folders:
                folders[parent] = os.path.realpath(parent)
            real = os.path.join(folders[parent], path.name)
    except OSError:
        return None, None
    prefix = os.path.join(real_root, "")
    return real.removeprefix(prefix) if real.startswith(prefix) else real, (found.st_size, found.st_mtime_ns)


def _reused(entry: object, path: Path, size_mtime: tuple[int, int]) -> CheckedImage | str | None:
    """What a kept ``entry`` says of ``path`` if it still holds, else None (check it again)."""
    limit = Image.MAX_IMAGE_PIXELS
    match entry:
        case [int(size), int(mtime), str(sha256), int(pixels)] if (size, mtime) == size_mtime and \
                len(sha256) == 64 and not (limit and pixels > limit):
            return CheckedImage(size, mtime, sha256, pixels)
        case [int(size), int(mtime), None, str(reason), then] if (size, mtime) == size_mtime and then == limit:
            return f"{path}: {reason}"
    return None


def _check(path: Path, size_mtime: tuple[int, int] | None) -> tuple[CheckedImage | str, list | None]:
    """``check_image(path)`` as an outcome, and the entry to keep for it (None: check it again next time)."""
    try:
        found = check_image(path)
    except (UnreadableImage, OSError) as err:
        reason, prefix = skip_reason(err, path), f"{path}: "
        keep = isinstance(err, UnreadableImage) and size_mtime and reason.startswith(prefix) and \
            size_mtime[1] < time.time_ns() - RECENT_NS
        return reason, [*size_mtime, None, reason.removeprefix(prefix), Image.MAX_IMAGE_PIXELS] if keep else None
    keep = found.mtime_ns < time.time_ns() - RECENT_NS
    return found, [found.size, found.mtime_ns, found.sha256, found.pixels] if keep else None
