"""Reverberation (Freeverb) at SoX's reverberance levels (AuViRe's audio protocol)."""

import math
from typing import Dict

import numpy as np

from holaframe.registry import TRANSFORMS

from .audio_pitch_shift import import_pedalboard
from .base_perturbation import BasePerturbation

__all__ = ['AudioReverb', 'sox_feedback']


def sox_feedback(reverberance: float) -> float:
    """The comb-filter feedback SoX's ``reverb`` uses for a reverberance in percent (0.3 at
    0 %, 0.98 at 100 %)."""
    a = -1.0 / math.log(1.0 - 0.3)
    b = 100.0 / (math.log(1.0 - 0.98) * a + 1.0)
    return 1.0 - math.exp((reverberance - b) / (a * b))


@TRANSFORMS.register_module()
class AudioReverb(BasePerturbation):
    """Add the reverberation of SoX's ``reverb`` at the level's reverberance.

    AuViRe's robustness study (Koutlis and Papadopoulos, 2025; distortion ``RV`` of its
    published script, SoX ``reverb`` through pysndfx): reverberance 20, 40, 60, 80, 100 % for
    levels 1..5, SoX's other settings at their defaults (HF damping 50 %, room scale 100 %,
    wet gain 0 dB, dry signal kept). SoX's reverb is Freeverb; so is pedalboard's ``Reverb``
    (JUCE), used here with the same filter settings: comb feedback ``sox_feedback(r)`` as
    ``room_size = (feedback - 0.7) / 0.28`` (JUCE's feedback range is 0.7..0.98, so level 1's
    0.656 becomes 0.7), damping 0.35 as ``damping = 0.35 / 0.4``, and unit dry and wet gains
    (``dry_level = 0.5``, ``wet_level = 1 / 3``). The output keeps the input's length (the tail
    past the clip's end is cut). Deterministic. Only the decoded part of the waveform is used
    (``audio_window``); a silent clip is left unchanged.

    Args:
        level: 0 (identity) or 1..5.
        seed: Unused (kept for a uniform interface).
    """

    name = 'reverb'
    modality = 'audio'
    levels = (20, 40, 60, 80, 100)
    parameter = 'SoX reverberance (%)'

    @property
    def room_size(self) -> float:
        """pedalboard's ``room_size`` of this level."""
        return min(max((sox_feedback(float(self.value)) - 0.7) / 0.28, 0.0), 1.0)

    def perturb(self, data: np.ndarray, results: Dict, rng: np.random.Generator) -> np.ndarray:
        """Reverberate a (N,) float32 waveform at ``results['audio_sr']``."""
        pedalboard = import_pedalboard()
        reverb = pedalboard.Reverb(room_size=self.room_size, damping=0.35 / 0.4,
                                   wet_level=1.0 / 3.0, dry_level=0.5, width=1.0)
        sr = float(results.get('audio_sr', 16000))
        out = np.asarray(reverb(np.ascontiguousarray(data), sr), dtype=np.float32).reshape(-1)
        return out[:data.size]
