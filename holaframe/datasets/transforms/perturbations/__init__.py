"""Robustness perturbations: DeeperForensics-1.0's seven video distortions and AuViRe's four
audio ones, five levels each, applied after decoding; plus the training-time augmentation."""

from .audio_gaussian_noise import AudioGaussianNoise
from .audio_mp3_compression import AudioMP3Compression
from .audio_pitch_shift import AudioPitchShift
from .audio_reverb import AudioReverb
from .base_perturbation import NUM_LEVELS, BasePerturbation
from .catalog import PERTURBATIONS, check_perturbation_names, parse_levels, perturbation_class
from .random_perturbation import RandomPerturbation
from .video_block_occlusion import VideoBlockOcclusion
from .video_color_contrast import VideoColorContrast
from .video_color_saturation import VideoColorSaturation
from .video_gaussian_blur import VideoGaussianBlur
from .video_gaussian_noise import VideoGaussianNoise
from .video_h264_compression import VideoH264Compression
from .video_jpeg_compression import VideoJPEGCompression
from .with_perturbation import WithPerturbation, insert_after_decoding

__all__ = [
    'BasePerturbation', 'NUM_LEVELS', 'PERTURBATIONS', 'check_perturbation_names',
    'parse_levels', 'perturbation_class', 'insert_after_decoding', 'VideoColorSaturation',
    'VideoColorContrast', 'VideoBlockOcclusion', 'VideoGaussianNoise', 'VideoGaussianBlur',
    'VideoJPEGCompression', 'VideoH264Compression', 'AudioGaussianNoise', 'AudioPitchShift',
    'AudioReverb', 'AudioMP3Compression', 'RandomPerturbation', 'WithPerturbation'
]
