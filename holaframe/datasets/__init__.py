"""Datasets, samplers and transforms."""

from .av_deepfake1m_dataset import AVDeepfake1MDataset
from .av_deepfake1m_test_dataset import AVDeepfake1MTestDataset
from .av_video_dataset import AVVideoDataset
from .base_av_dataset import BaseAVDataset
from .io import BadSampleError, NoAudioStreamError, open_video, read_audio
from .packed_clip_dataset import PackedClipDataset
from .samplers import ShardSampler
from .transforms import *  # noqa: F401,F403
from .transforms import __all__ as _transforms_all

__all__ = [
    'AVDeepfake1MDataset', 'AVDeepfake1MTestDataset', 'AVVideoDataset', 'BaseAVDataset',
    'BadSampleError', 'NoAudioStreamError', 'PackedClipDataset', 'ShardSampler', 'open_video',
    'read_audio'
] + list(_transforms_all)
