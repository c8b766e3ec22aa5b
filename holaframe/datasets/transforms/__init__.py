"""Data transforms (decoding, sampling, features, packing)."""

from .audio_decode import AudioDecode
from .audio_fbank import AudioFbank, kaldi_fbank, kaldi_mel_banks
from .audio_frame_log_mel import AudioFrameLogMel
from .audio_mfcc_segments import AudioMFCCSegments, frame_windows
from .decord_decode import DecordDecode
from .decord_init import DecordInit
from .dense_sample_frames import DenseSampleFrames
from .face_track_crop import FaceTrackCrop, NoFaceError
from .frame_fake_mask import FrameFakeMask
from .haar_face_crop import HaarFaceCrop
from .mouth_crop import MouthCrop
from .pack_av_inputs import PackAVInputs
from .perturbations import *  # noqa: F401,F403 (robustness perturbations)
from .perturbations import __all__ as _perturbations_all
from .sample_clip_frames import SampleClipFrames
from .segment_targets import SegmentTargets
from .trim_leading_silence import TrimLeadingSilence
from .uniform_sample_frames import UniformSampleFrames
from .video_center_crop import VideoCenterCrop
from .video_flip import VideoFlip
from .video_normalize import VideoNormalize
from .video_random_camera_motion import VideoRandomCameraMotion
from .video_random_crop import VideoRandomCrop
from .video_resize import VideoResize
from .whole_video_sample_frames import WholeVideoSampleFrames

__all__ = [
    'AudioDecode', 'AudioFbank', 'AudioFrameLogMel', 'AudioMFCCSegments', 'DecordDecode',
    'DecordInit', 'DenseSampleFrames', 'FaceTrackCrop', 'FrameFakeMask', 'HaarFaceCrop',
    'MouthCrop', 'PackAVInputs', 'SampleClipFrames', 'SegmentTargets', 'TrimLeadingSilence',
    'UniformSampleFrames', 'VideoCenterCrop', 'VideoFlip', 'VideoNormalize',
    'VideoRandomCameraMotion', 'VideoRandomCrop', 'VideoResize', 'WholeVideoSampleFrames',
    'NoFaceError', 'kaldi_fbank', 'kaldi_mel_banks', 'frame_windows'
] + list(_perturbations_all)
