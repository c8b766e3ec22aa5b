"""Self-supervised pre-trainers (AV-MAE)."""

from .avmae_decoder import AVMAEDecoder
from .avmae_pretrainer import AVMAEPretrainer

__all__ = ['AVMAEDecoder', 'AVMAEPretrainer']
