"""High-level APIs (inference)."""

from holaframe.deploy import quantize_dynamic_int8
from holaframe.utils.checkpoint import allow_mmengine_checkpoints, load_weights

from .inference import collect_videos, inference_detector, init_detector
from .localization import localize_detector

__all__ = [
    'init_detector', 'inference_detector', 'collect_videos', 'load_weights',
    'allow_mmengine_checkpoints', 'quantize_dynamic_int8', 'localize_detector'
]
