"""The sensor-based self-supervised baselines of Table II (Section V-A3), pre-trained on raw windows.

Each method is an ``nn.Module`` with the same contract, the only one the trainer uses:
``loss(windows, *, generator)`` on RAW windows (N, T, 3) in g (the method augments, masks or
samples negatives with ``generator``, then standardises internally), ``optimizer(batch_size)``,
``learning_rate(epoch, *, epochs, batch_size)`` (pure) and ``backbone()``, a copy of
``Standardize`` + encoder mapping raw windows (N, T, 3) in g to features (N, F), without head.
The corpus statistics (``fit_corpus_stats`` on the pre-training windows) go into the config's
``mean`` and ``std`` (``dataclasses.replace(SimCLRHARConfig(), mean=m, std=s)``); the defaults,
0 and 1, standardise nothing. So the config saved with a checkpoint also records the statistics,
and the probe feeds raw downstream windows, normalised with the pre-training corpus's
statistics, as Section V-A2 says.
"""

from .corpus import WindowCorpus
from .corpus import sensor_corpus
from .corpus import sensor_corpus_windows
from .cpc import CPCHAR
from .cpc import CPCHARConfig
from .encoders import CNN1D
from .encoders import LimuBertEncoder
from .encoders import random_init_backbone
from .limu_bert import LimuBert
from .limu_bert import LimuBertConfig
from .multitask import MultiTaskHAR
from .multitask import MultiTaskHARConfig
from .normalization import Standardize
from .normalization import fit_corpus_stats
from .simclr_har import SimCLRHAR
from .simclr_har import SimCLRHARConfig
from .simclr_har import nt_xent

__all__ = [
    "CNN1D",
    "CPCHAR",
    "CPCHARConfig",
    "LimuBert",
    "LimuBertConfig",
    "LimuBertEncoder",
    "MultiTaskHAR",
    "MultiTaskHARConfig",
    "SimCLRHAR",
    "SimCLRHARConfig",
    "Standardize",
    "fit_corpus_stats",
    "nt_xent",
    "random_init_backbone",
    "sensor_corpus",
    "sensor_corpus_windows",
    "WindowCorpus",
]
