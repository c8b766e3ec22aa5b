"""RandomPerturbation: probability, draws from the configured names and levels, reproducible,
one draw per sample shared by its copies after each decoder."""

import numpy as np
import pytest

from holaframe.datasets.transforms.perturbations import PERTURBATIONS, RandomPerturbation


def sample(seed=0):
    rng = np.random.default_rng(seed)
    return dict(imgs=rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8),
                waveform=(0.2 * rng.standard_normal(8000)).astype(np.float32), audio_sr=16000,
                avg_fps=25.0, file='real/a.mp4')


def test_prob_zero_is_the_identity_and_prob_one_always_perturbs():
    base = sample()
    out = RandomPerturbation(prob=0.0)(sample())
    assert np.array_equal(out['imgs'], base['imgs'])
    assert np.array_equal(out['waveform'], base['waveform'])
    assert out['random_perturbation']['name'] is None and 'perturbations' not in out
    np.random.seed(0)
    seen = set()
    for _ in range(60):
        out = RandomPerturbation(prob=1.0, perturbations=['gaussian_blur', 'audio_noise'],
                                 levels='2-3')(sample())
        (name, level), = out['perturbations']
        assert name in ('gaussian_blur', 'audio_noise') and level in (2, 3)
        seen.add((name, level))
    assert len(seen) == 4


def test_the_rate_follows_prob_and_a_seed_reproduces_the_draws():
    t = RandomPerturbation(prob=0.3, perturbations=['color_contrast'])
    np.random.seed(1)
    first = [t(sample())['random_perturbation']['level'] for _ in range(400)]
    rate = np.mean([lv is not None for lv in first])
    assert 0.22 < rate < 0.38
    np.random.seed(1)
    assert [t(sample())['random_perturbation']['level'] for _ in range(400)] == first


def test_copies_after_each_decoder_share_one_draw():
    t = RandomPerturbation(prob=1.0, perturbations=['audio_noise'], levels=[5])
    results = sample()
    audio = results.pop('waveform')
    results = t(results)  # copy after the video decoder: draws, cannot apply an audio one
    assert results['random_perturbation'] == dict(name='audio_noise', level=5, applied=False)
    results['waveform'] = audio
    results = t(results)  # copy after the audio decoder applies it
    assert results['perturbations'] == [('audio_noise', 5)]
    assert t(results)['perturbations'] == [('audio_noise', 5)]  # never twice


def test_bad_settings_list_the_valid_ones():
    with pytest.raises(ValueError, match='valid names: color_saturation'):
        RandomPerturbation(perturbations=['nope'])
    with pytest.raises(ValueError, match=r'outside 1\.\.5'):
        RandomPerturbation(levels='4-6')
    with pytest.raises(ValueError, match=r'prob must be in \[0, 1\]'):
        RandomPerturbation(prob=1.5)
    with pytest.raises(ValueError, match='valid names'):
        RandomPerturbation(kwargs=dict(h265=dict(preset='fast')))
    t = RandomPerturbation(kwargs=dict(h264=dict(preset='veryfast'), jpeg=dict(codec=True)))
    assert t._transforms[('h264', 1)].preset == 'veryfast'
    assert t._transforms[('jpeg', 5)].codec and t.modalities == ['video', 'audio']
    assert len(t._transforms) == len(PERTURBATIONS) * 5
