"""Video and audio encoders."""

from .audio_vit_encoder import AudioViTEncoder
from .base_vit_encoder import ARCH_SETTINGS, BaseViTEncoder
from .frame_audio_encoder import FrameAudioEncoder
from .frame_conv_stem import FrameConvStem
from .video_vit_encoder import VideoViTEncoder

__all__ = ['VideoViTEncoder', 'AudioViTEncoder', 'BaseViTEncoder', 'ARCH_SETTINGS',
           'FrameConvStem', 'FrameAudioEncoder']
