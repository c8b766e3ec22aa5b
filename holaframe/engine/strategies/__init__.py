"""Training strategies (DeepSpeed)."""

from .hola_deep_speed_engine_wrapper import HolaDeepSpeedEngineWrapper
from .hola_deep_speed_strategy import HolaDeepSpeedStrategy

__all__ = ['HolaDeepSpeedEngineWrapper', 'HolaDeepSpeedStrategy']
