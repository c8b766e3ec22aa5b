"""Models. Each family lives in its own sub-package; importing this module registers them all."""

from .backbones import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .detectors import *  # noqa: F401,F403
from .encoders import *  # noqa: F401,F403
from .fusion import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .initializers import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .maskers import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .postprocessors import *  # noqa: F401,F403
from .pretrainers import *  # noqa: F401,F403
from .refiners import *  # noqa: F401,F403

__all__: list = []
