"""The book's layer, on top of every stage: the profiles, the runs and backbones the chapters need, the
paper's tables and claims and how the chapters score and print them. Nothing below it imports it.
(``book.viz``, the notebooks' plotting and widget helpers, is imported by the chapters themselves.)"""

from .profiles import PROFILES
from .profiles import ChapterSizes
from .profiles import Profile
from .profiles import get_profile
from .profiles import profile_config
from .runs import book_candidates
from .runs import book_runs
