"""Source-filter speech: exact lengths, word spans, formant structure, TTS voice, openness."""

import numpy as np
from scipy.signal import welch

from holaframe.testing.source_filter_speech import (
    SAMPLE_RATE,
    random_speaker,
    synthesize_utterance,
    synthesize_word,
    tts_voice,
)


def test_utterance_has_words_and_pauses():
    rng = np.random.default_rng(0)
    sp = random_speaker(rng)
    wave, openness, words = synthesize_utterance(rng, 4.0, sp)
    assert wave.shape == openness.shape == (4 * SAMPLE_RATE,)
    assert np.isfinite(wave).all() and 0.3 < np.abs(wave).max() <= 1.0
    assert len(words) >= 3
    assert words[0][0] >= 0.05 * SAMPLE_RATE  # leading silence
    for (_, e0), (s1, _) in zip(words, words[1:]):
        assert s1 - e0 >= 0.08 * SAMPLE_RATE - 1  # a pause between words
        assert np.abs(wave[e0:s1]).max() == 0
    speech = np.zeros(len(wave), bool)
    for s, e in words:
        speech[s:e] = True
    assert openness[~speech].max() == 0 and openness[speech].max() > 0.3


def test_word_length_and_vowel_formant():
    rng = np.random.default_rng(1)
    sp = random_speaker(rng)
    wave, openness = synthesize_word(rng, sp, target=0.37)
    assert len(wave) == len(openness) == round(0.37 * SAMPLE_RATE)
    # the spectrum's energy sits in the speech band (formants below 4 kHz), not flat
    f, p = welch(wave, SAMPLE_RATE, nperseg=512)
    assert p[(f > 150) & (f < 4000)].sum() > 3 * p[f >= 4000].sum()


def test_tts_voice_is_close_and_clean():
    rng = np.random.default_rng(2)
    sp = random_speaker(rng)
    tts = tts_voice(rng, sp)
    assert abs(tts.f0 / sp.f0 - 1) <= 0.06 and abs(tts.vtl / sp.vtl - 1) <= 0.05
    assert tts.jitter == 0 and tts.breathiness <= sp.breathiness
    wave, _ = synthesize_word(rng, tts, target=0.3, monotone=True)
    assert np.isfinite(wave).all()
