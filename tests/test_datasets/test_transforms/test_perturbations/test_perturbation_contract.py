"""What every robustness perturbation guarantees: shape and dtype kept, level 0 is the identity,
a fixed seed gives the same output, bad levels are refused with the valid ones listed."""

import copy

import numpy as np
import pytest

from holaframe.datasets.transforms.perturbations import (
    NUM_LEVELS,
    PERTURBATIONS,
    BasePerturbation,
)
from holaframe.registry import TRANSFORMS

#: Perturbations that draw random numbers (the others are deterministic functions).
RANDOM = {'block_occlusion', 'gaussian_noise', 'audio_noise', 'pitch_shift'}


def clip_results(seed: int = 0, frames: int = 6, height: int = 40, width: int = 48,
                 seconds: float = 0.5, file: str = 'real/clip_0.mp4') -> dict:
    """A small decoded sample: smooth colour frames and a harmonic waveform at 16 kHz."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([128 + 90 * np.sin(x / 5.0 + c) * np.cos(y / 7.0 - c) for c in range(3)], -1)
    imgs = np.stack([np.roll(base, 2 * t, axis=1) for t in range(frames)])
    imgs = np.clip(imgs + rng.normal(0, 3, imgs.shape), 0, 255).astype(np.uint8)
    t = np.arange(int(16000 * seconds)) / 16000
    wave = (0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 660 * t)
            + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
    return dict(imgs=imgs, waveform=wave, audio_sr=16000, avg_fps=25.0, file=file,
                filename=f'/data/{file}', sample_idx=0)


def _key(cls):
    return 'imgs' if cls.modality == 'video' else 'waveform'


def test_the_protocol_has_eleven_perturbations_of_five_levels():
    assert len(PERTURBATIONS) == 11
    assert [c.modality for c in PERTURBATIONS.values()].count('video') == 7
    for name, cls in PERTURBATIONS.items():
        assert issubclass(cls, BasePerturbation) and cls.name == name
        assert len(cls.levels) == NUM_LEVELS and cls.parameter
        assert TRANSFORMS.get(cls.__name__) is cls


@pytest.mark.parametrize('name', list(PERTURBATIONS))
def test_shape_dtype_and_identity(name):
    cls = PERTURBATIONS[name]
    key = _key(cls)
    base = clip_results()
    same = cls(level=0, seed=0)(copy.deepcopy(base))
    assert np.array_equal(same[key], base[key]) and same[key].dtype == base[key].dtype
    for level in (1, NUM_LEVELS):
        out = cls(level=level, seed=0)(copy.deepcopy(base))
        assert out[key].shape == base[key].shape, (name, level)
        assert out[key].dtype == base[key].dtype, (name, level)
        assert not np.array_equal(out[key], base[key]), f'{name} level {level} changed nothing'
        assert out['perturbations'] == [(name, level)]


@pytest.mark.parametrize('name', list(PERTURBATIONS))
def test_same_seed_same_output(name):
    cls = PERTURBATIONS[name]
    key = _key(cls)
    base = clip_results()
    a = cls(level=3, seed=7)(copy.deepcopy(base))[key]
    b = cls(level=3, seed=7)(copy.deepcopy(base))[key]
    assert np.array_equal(a, b)
    if name in RANDOM:
        # Another seed, or another clip under the same seed, draws differently...
        c = cls(level=3, seed=8)(copy.deepcopy(base))[key]
        other = clip_results(file='fake/clip_1.mp4')
        d = cls(level=3, seed=7)(other)[key]
        assert not (np.array_equal(a, c) and np.array_equal(a, d))
        # ...and without a seed the global NumPy generator decides.
        np.random.seed(3)
        e = cls(level=3)(copy.deepcopy(base))[key]
        np.random.seed(3)
        f = cls(level=3)(copy.deepcopy(base))[key]
        assert np.array_equal(e, f)


@pytest.mark.parametrize('level', [-1, 6, 2.5, True, '3'])
def test_bad_level_lists_the_levels(level):
    with pytest.raises(ValueError, match=r'level must be an integer in 0\.\.5.*levels are'):
        PERTURBATIONS['h264'](level=level)


def test_missing_input_and_wrong_input_name_the_fix():
    with pytest.raises(KeyError, match='after DecordDecode'):
        PERTURBATIONS['gaussian_blur'](level=1)(dict(filename='a.mp4'))
    with pytest.raises(KeyError, match='after AudioDecode'):
        PERTURBATIONS['mp3'](level=1)(dict(filename='a.mp4'))
    with pytest.raises(ValueError, match='a.mp4.*uint8'):
        PERTURBATIONS['gaussian_blur'](level=1)(
            dict(filename='a.mp4', imgs=np.zeros((2, 8, 8, 3), np.float32)))


def test_a_failure_names_the_clip_perturbation_and_level():
    from holaframe.datasets import BadSampleError
    tiny = clip_results(height=6, width=6)  # too small for 8 x 8 blocks
    with pytest.raises(BadSampleError, match=r'/data/real/clip_0.mp4: block_occlusion level 2'):
        PERTURBATIONS['block_occlusion'](level=2, seed=0)(tiny)


@pytest.mark.parametrize('name', [n for n, c in PERTURBATIONS.items() if c.modality == 'video'])
def test_repeated_frames_are_perturbed_once_and_stay_copies(name):
    """A short clip padded with its last frame: the padding is a copy of the perturbed frame."""
    base = clip_results(frames=4)
    inds = [0, 1, 2, 3, 3, 3]
    base['imgs'] = base['imgs'][inds]
    base['frame_inds'] = np.array(inds)
    out = PERTURBATIONS[name](level=5, seed=0)(copy.deepcopy(base))['imgs']
    assert out.shape == base['imgs'].shape
    assert np.array_equal(out[3], out[4]) and np.array_equal(out[3], out[5])
    assert not np.array_equal(out[3], base['imgs'][3])
