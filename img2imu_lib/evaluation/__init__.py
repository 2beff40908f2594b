"""The evaluation of the paper (Section V): frozen features, the linear probe chosen on validation, the
fully supervised bounds, paired claims, Grad-CAM and the whole classifiers built from them."""

from .bounds import fully_supervised
from .bounds import per_class_sample
from .bounds import train_fully_supervised
from .candidates import Candidate
from .candidates import candidate_from_file
from .candidates import checkpoint_candidate
from .candidates import random_2d_candidate
from .candidates import random_candidates
from .candidates import random_init_2d
from .candidates import resnet18_from_state_dict
from .data import EvalData
from .data import available_datasets
from .data import balanced_cap
from .data import downstream_datasets
from .data import eval_data
from .data import seed_splits
from .features import RESULTS_VERSION
from .features import backbone_inputs
from .features import features
from .linear import linear_eval
from .probe import macro_f1
from .probe import train_heads
from .study import EvalSizes
from .study import Evaluation
