"""Pitch shift by a number of semitones, up or down (AuViRe's audio protocol)."""

from typing import Dict

import numpy as np

from holaframe.registry import TRANSFORMS

from .base_perturbation import BasePerturbation

__all__ = ['AudioPitchShift', 'import_pedalboard']


def import_pedalboard():
    """The ``pedalboard`` module, or an ImportError naming the install command."""
    try:
        import pedalboard
    except ImportError as e:
        raise ImportError('the pitch-shift and reverberation perturbations need pedalboard: '
                          '`pip install pedalboard==0.9.26` (a holaframe requirement)') from e
    return pedalboard


@TRANSFORMS.register_module()
class AudioPitchShift(BasePerturbation):
    """Shift the pitch by the level's number of semitones, keeping the duration.

    AuViRe's robustness study (Koutlis and Papadopoulos, 2025; distortion ``PS`` of its
    published script): 2, 4, 6, 8, 10 semitones for levels 1..5, downwards with probability 1/2
    (one draw per clip). The shift is Rubber Band's time-preserving pitch shifter through
    pedalboard's ``PitchShift``; the output has the input's length. Only the decoded part of the
    waveform is used (``audio_window``); a silent clip is left unchanged.

    Args:
        level: 0 (identity) or 1..5.
        seed: None (global NumPy generator) or an integer (per-clip generator).
    """

    name = 'pitch_shift'
    modality = 'audio'
    levels = (2, 4, 6, 8, 10)
    parameter = 'semitones (sign drawn)'

    def perturb(self, data: np.ndarray, results: Dict, rng: np.random.Generator) -> np.ndarray:
        """Shift a (N,) float32 waveform at ``results['audio_sr']``."""
        pedalboard = import_pedalboard()
        semitones = float(self.value) * (-1.0 if rng.random() < 0.5 else 1.0)
        results['pitch_shift_semitones'] = semitones
        sr = float(results.get('audio_sr', 16000))
        out = pedalboard.PitchShift(semitones=semitones)(np.ascontiguousarray(data), sr)
        out = np.asarray(out, dtype=np.float32).reshape(-1)
        if out.size != data.size:
            out = np.pad(out[:data.size], (0, max(data.size - out.size, 0)))
        return out
