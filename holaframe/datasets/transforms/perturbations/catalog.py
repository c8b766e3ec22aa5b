"""The robustness protocol's perturbations by short name, and checks of names and levels."""

import re
from typing import Dict, List, Optional, Sequence, Type

from .audio_gaussian_noise import AudioGaussianNoise
from .audio_mp3_compression import AudioMP3Compression
from .audio_pitch_shift import AudioPitchShift
from .audio_reverb import AudioReverb
from .base_perturbation import NUM_LEVELS, BasePerturbation
from .video_block_occlusion import VideoBlockOcclusion
from .video_color_contrast import VideoColorContrast
from .video_color_saturation import VideoColorSaturation
from .video_gaussian_blur import VideoGaussianBlur
from .video_gaussian_noise import VideoGaussianNoise
from .video_h264_compression import VideoH264Compression
from .video_jpeg_compression import VideoJPEGCompression

__all__ = ['PERTURBATIONS', 'perturbation_class', 'check_perturbation_names', 'parse_levels']

#: Short name -> transform class, video (DeeperForensics-1.0) first, then audio (AuViRe).
PERTURBATIONS: Dict[str, Type[BasePerturbation]] = {
    cls.name: cls
    for cls in (VideoColorSaturation, VideoColorContrast, VideoBlockOcclusion,
                VideoGaussianNoise, VideoGaussianBlur, VideoJPEGCompression,
                VideoH264Compression, AudioGaussianNoise, AudioPitchShift, AudioReverb,
                AudioMP3Compression)
}


def check_perturbation_names(names: Optional[Sequence[str]]) -> List[str]:
    """The names in order (all of them for None); an unknown name is a ValueError listing the
    valid ones."""
    if names is None:
        return list(PERTURBATIONS)
    names = list(names)
    unknown = [n for n in names if n not in PERTURBATIONS]
    if unknown:
        raise ValueError(f'unknown perturbation(s) {unknown}; valid names: '
                         f'{", ".join(PERTURBATIONS)}')
    if not names:
        raise ValueError(f'no perturbation given; valid names: {", ".join(PERTURBATIONS)}')
    return list(dict.fromkeys(names))


def perturbation_class(name: str) -> Type[BasePerturbation]:
    """The class of a short name (ValueError listing the valid names otherwise)."""
    return PERTURBATIONS[check_perturbation_names([name])[0]]


def parse_levels(spec) -> List[int]:
    """Levels from ``'1-5'``, ``'1,3,5'``, ``'2'`` or a sequence of integers, sorted.

    Raises:
        ValueError: A level outside 1..5 or an unreadable spec (the message lists the valid
            levels).
    """
    valid = f'levels are integers 1..{NUM_LEVELS} (e.g. "1-5", "1,3,5" or "2")'
    if isinstance(spec, str):
        levels: List[int] = []
        for part in (p.strip() for p in spec.split(',')):
            match = re.fullmatch(r'(-?\d+)\s*-\s*(-?\d+)|(-?\d+)', part)
            if not match:
                raise ValueError(f'cannot read levels {spec!r}: {valid}')
            if match.group(3) is not None:
                levels.append(int(match.group(3)))
            else:
                lo, hi = int(match.group(1)), int(match.group(2))
                if lo > hi:
                    raise ValueError(f'cannot read levels {spec!r} (empty range): {valid}')
                levels.extend(range(lo, hi + 1))
    else:
        try:
            levels = [int(v) for v in spec]
        except (TypeError, ValueError):
            raise ValueError(f'cannot read levels {spec!r}: {valid}') from None
    bad = sorted({v for v in levels if not 1 <= v <= NUM_LEVELS})
    if bad or not levels:
        raise ValueError(f'level(s) {bad or spec!r} outside 1..{NUM_LEVELS}: {valid}')
    return sorted(set(levels))
