"""IMU windows as images (paper Section IV): the spectrogram conversion, the four sensor-aware
augmentations, and the baseline image augmentations they are compared with."""

from .augmentations import Cascade
from .augmentations import Hue
from .augmentations import Jitter
from .augmentations import OneOf
from .augmentations import PermuteX
from .augmentations import TranslateX
from .augmentations import TwoViews
from .augmentations import sensor_aware_augmentations
from .baselines import ImageOp
from .baselines import PerSample
from .baselines import all_augmentations
from .baselines import moco_v2_augmentations
from .spectrogram import IMAGE_SIZE
from .spectrogram import IMAGENET_MEAN
from .spectrogram import IMAGENET_STD
from .spectrogram import denormalize
from .spectrogram import normalize_images
from .spectrogram import spectrogram_images
from .spectrogram import stft_power
