"""High-level APIs (inference)."""

from .checkpoint_loading import allow_mmengine_checkpoints, load_weights, mmengine_safe_globals
from .inference import collect_videos, inference_detector, init_detector

__all__ = [
    'init_detector', 'inference_detector', 'collect_videos', 'load_weights',
    'allow_mmengine_checkpoints', 'mmengine_safe_globals'
]
