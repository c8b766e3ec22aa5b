"""Additive white Gaussian noise at a fixed signal-to-noise ratio (AuViRe's audio protocol)."""

from typing import Dict

import numpy as np

from holaframe.registry import TRANSFORMS

from .base_perturbation import BasePerturbation

__all__ = ['AudioGaussianNoise']


@TRANSFORMS.register_module()
class AudioGaussianNoise(BasePerturbation):
    """Add white Gaussian noise scaled so that the clip's SNR is exactly the level's value.

    The audio perturbations of AuViRe's robustness study (Koutlis and Papadopoulos, 2025; its
    published ``robustness`` script, distortion ``GN``): SNR 40, 30, 20, 15, 10 dB for levels
    1..5. The noise is scaled with the power of the drawn noise itself, so
    ``10 log10(sum(x^2) / sum(n^2))`` equals the target (up to float32 rounding). The published
    script passes the dB value where a power ratio is expected (``snr`` instead of
    ``10^(snr/10)``), which gives 16, 15, 13, 12 and 10 dB; the levels here are the stated dB
    values. Only the decoded part of the waveform is used (``audio_window`` of windowed
    decoding); a silent clip is left unchanged (no SNR is defined).

    Args:
        level: 0 (identity) or 1..5.
        seed: None (global NumPy generator) or an integer (per-clip generator).
    """

    name = 'audio_noise'
    modality = 'audio'
    levels = (40, 30, 20, 15, 10)
    parameter = 'SNR (dB)'

    def perturb(self, data: np.ndarray, results: Dict, rng: np.random.Generator) -> np.ndarray:
        """Add noise to a (N,) float32 waveform."""
        x = data.astype(np.float64)
        noise = rng.standard_normal(x.size)
        target = np.mean(x ** 2) / 10.0 ** (float(self.value) / 10.0)
        noise *= np.sqrt(target / np.mean(noise ** 2))
        return (x + noise).astype(np.float32)
