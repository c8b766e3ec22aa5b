"""Engine extensions: hooks, loops and training strategies."""

from .hooks import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403
from .strategies import *  # noqa: F401,F403

__all__: list = []
