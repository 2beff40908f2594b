"""IMU datasets as lists of ``Recording``s, by name, with the paper's data protocol."""

from .capture24 import stream_capture24
from .capture24 import substitute_corpus
from .daphnet import load_daphnet
from .download import Download
from .download import DownloadError
from .download import fetch
from .field import load_goat
from .field import load_pvs
from .hapt import HAPT_CLASSES
from .hapt import load_hapt
from .own import from_arrays
from .own import read_csv
from .protocol import Split
from .protocol import few_shot
from .protocol import fit_normalizer
from .protocol import normalize
from .protocol import resample
from .protocol import subject_split
from .recording import Recording
from .registry import DATASETS
from .registry import Dataset
from .registry import DatasetInfo
from .registry import dataset_info
from .registry import load_dataset
from .watch import load_watch
from .wisdm import load_wisdm
