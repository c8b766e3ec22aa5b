"""Video and audio encoders."""

from .audio_vit_encoder import AudioViTEncoder
from .avfmae_audio_encoder import AVFMAEAudioEncoder
from .avfmae_video_encoder import AVFMAEVideoEncoder
from .base_lg_encoder import AVFMAE_ARCH_SETTINGS, LGEncoderMixin
from .base_vit_encoder import ARCH_SETTINGS, BaseViTEncoder
from .frame_audio_encoder import FrameAudioEncoder
from .frame_conv_stem import FrameConvStem
from .video_vit_encoder import VideoViTEncoder

__all__ = ['VideoViTEncoder', 'AudioViTEncoder', 'BaseViTEncoder', 'ARCH_SETTINGS',
           'FrameConvStem', 'FrameAudioEncoder', 'AVFMAEVideoEncoder', 'AVFMAEAudioEncoder',
           'AVFMAE_ARCH_SETTINGS', 'LGEncoderMixin']
