"""img2imu_lib: IMU windows as spectrogram images, sensor-aware augmentations, and the rest of
the IMG2IMU pipeline (Yoon et al., IEEE TMC 2025)."""

from .augmentations import Cascade
from .augmentations import Hue
from .augmentations import Jitter
from .augmentations import OneOf
from .augmentations import PermuteX
from .augmentations import TranslateX
from .augmentations import TwoViews
from .augmentations import sensor_aware_augmentations
from .baseline_augmentations import ImageOp
from .baseline_augmentations import PerSample
from .baseline_augmentations import all_augmentations
from .baseline_augmentations import moco_v2_augmentations
from .conversion import IMAGENET_MEAN
from .corpora import ImageFolderCorpus
from .corpora import OfflineCorpus
from .corpora import load_corpus
from .conversion import IMAGENET_STD
from .conversion import IMAGE_SIZE
from .conversion import denormalize
from .conversion import segment_count
from .conversion import spectrogram_images
from .conversion import stft_power
from .conversion import power_to_unit_image
from .datasets import DATASETS
from .datasets import HAPT_CLASSES
from .datasets import Dataset
from .datasets import Recording
from .datasets import few_shot
from .datasets import load_dataset
from .datasets import load_hapt
from .datasets import subject_split
from .datasets.app_example import load_app_example
from .moco import MoCo
from .moco import MoCoConfig
from .moco import info_nce
from .paths import data_search_path
from .paths import find_data
from .pretrain import PretrainConfig
from .pretrain import profile_config
from .profiles import PROFILES
from .profiles import Profile
from .profiles import get_profile
from .schedule import learning_rate
from .seeding import seed_everything
from .sensory import SENSORY_PERTURBATIONS
from .sensory import add_noise
from .sensory import mask
from .sensory import rotate
from .sensory import time_shift
from .trainer import pretrain
from .trainer import train_one_epoch
from .windows import sliding_windows
from .windows import windows_from_recordings

__version__ = "0.1.0"
