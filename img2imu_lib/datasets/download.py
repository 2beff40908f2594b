"""Downloads from the publishers: progress bar, SHA-256 check, a cache, and atomic unpacking.

``pooch`` downloads into a temporary file beside the target and renames it only after the
whole file arrived and its hash matched, so an interrupted or corrupt download leaves nothing
behind. Archives are unpacked into a temporary folder that is renamed when complete.

Where the publisher states no checksum (none of the paper's datasets does), the SHA-256 of the
first download is recorded beside the archive (``<archive>.sha256``) and every later use is
checked against it; the message says that the first hash was not independently verified.

When the host cannot be reached (offline, refused, timed out), answers with an HTTP error, or the
connection breaks off, ``fetch`` raises ``DownloadError`` naming the address, the reason, and the
exact path where a file downloaded by hand is picked up.
"""

from __future__ import annotations

import tarfile
import urllib.error
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pooch
import requests

from ..store import atomic_path, cache_dir, sha256_of


@dataclass(frozen=True)
class Download:
    url: str  # the publisher's address of the archive
    filename: str  # name of the archive in the cache
    sha256: str | None = None  # published SHA-256, or None when the publisher gives none


class DownloadError(ConnectionError):
    """A download that did not arrive; the message names the address, why, and where to put the file by hand."""


def _why(err: Exception) -> str:
    response = getattr(err, "response", None)
    if isinstance(err, requests.HTTPError) and response is not None:
        return f"the host answered HTTP {response.status_code} {response.reason} (the file is not, or no longer, at this address)"
    if isinstance(err, (requests.ConnectionError, requests.Timeout, urllib.error.URLError, TimeoutError, ConnectionError)):
        return f"the machine seems offline or the host is unreachable ({type(err).__name__}: {str(err)[:300]})"
    return f"the download broke off ({type(err).__name__}: {str(err)[:300]})"


def fetch(download: Download, *, folder: Path | None = None, progress: bool = True) -> Path:
    """The archive, downloaded if needed and checked; returns its path in the cache (``folder``, default
    the cache folder). A file already at that path is used (and checked) instead of downloading."""
    folder = Path(folder) if folder is not None else cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / download.filename
    record = target.with_name(target.name + ".sha256")
    expected = download.sha256 or (record.read_text().strip() if record.exists() else None)
    try:
        path = Path(pooch.retrieve(download.url, known_hash=f"sha256:{expected}" if expected else None,
                                   fname=download.filename, path=folder, progressbar=progress))
    except (requests.RequestException, urllib.error.URLError, TimeoutError, ConnectionError) as err:
        raise DownloadError(f"{download.url}: could not download it: {_why(err)}. Nothing was kept. Download it by hand "
                            f"(a browser, curl) and put it at {target}, where fetch looks first (and checks its SHA-256).") from err
    except ValueError as err:  # pooch's hash mismatch: the download was not kept
        if "does not match" not in str(err):
            raise
        raise ValueError(f"{download.url}: SHA-256 of the download does not match {expected} "
                         f"({'published' if download.sha256 else 'recorded at first download'}); "
                         f"the file was discarded. ({err})") from err
    if expected is None:
        record.write_text(sha256_of(path) + "\n")
    return path


def unpack(archive: Path, destination: Path) -> Path:
    """Unpack a .zip or .tar(.gz) into ``destination`` atomically; reuse it if already complete."""
    if destination.is_dir():
        return destination
    with atomic_path(destination) as partial:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                z.extractall(partial)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as t:
                t.extractall(partial, filter="data")
        else:
            raise ValueError(f"{archive}: neither a zip nor a tar archive")
    return destination
