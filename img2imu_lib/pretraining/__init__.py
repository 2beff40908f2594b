"""Pre-training (paper Section IV-C and the baselines of Table II): one config and one method table for
every method, MoCo with the sensor-aware augmentations, the image and sensor baselines, the image
corpora, and one trainer for one process or many under torchrun."""

from .backbones import FEATURE_DIMS
from .backbones import IMAGE_ARCHS
from .backbones import INITS
from .backbones import image_backbone
from .backbones import imagenet_mobilenet_v2
from .backbones import reestimate_batchnorm
from .config import EpochOrder
from .config import PretrainConfig
from .config import PretrainSizes
from .config import bf16_hardware
from .config import run_folder
from .corpora import ImageFolderCorpus
from .corpora import OfflineCorpus
from .corpora import load_corpus
from .corpus_cache import CachedCorpus
from .imagenet_weights import imagenet_backbone
from .labelled import LabelledImageFolder
from .methods import IMAGE_METHODS
from .methods import METHODS
from .methods import SENSOR_METHODS
from .methods import MethodSpec
from .methods import method_kind
from .moco import MoCo
from .moco import MoCoConfig
from .simsiam import SimSiam
from .simsiam import SimSiamConfig
from .supervised import Supervised
from .trainer import pretrain
from .run_backbones import snapshot_backbone
from .trainer import time_steps
from .run_backbones import trained_backbone
