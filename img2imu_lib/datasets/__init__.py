"""IMU datasets as lists of ``Recording``s."""

from .hapt import HAPT_CLASSES
from .hapt import load_hapt
from .recording import Recording

__all__ = ["HAPT_CLASSES", "Recording", "load_hapt"]
