"""MP3 compression at a constant bit rate (AuViRe's audio protocol)."""

import io
import math
from typing import Dict

import numpy as np

from holaframe.registry import TRANSFORMS

from .base_perturbation import BasePerturbation

__all__ = ['AudioMP3Compression']

#: Sample rates of MPEG-1 Layer III, the only MP3 flavour with bit rates above 160 kbit/s.
MPEG1_RATES = (32000, 44100, 48000)


@TRANSFORMS.register_module()
class AudioMP3Compression(BasePerturbation):
    """Encode the waveform as constant-bit-rate MP3 with LAME and decode it back.

    AuViRe's robustness study (Koutlis and Papadopoulos, 2025; distortion ``AC`` of its
    published script): 320, 256, 192, 128, 64 kbit/s for levels 1..5 (mono). The encoder is
    LAME (``libmp3lame``) and the decoder FFmpeg's, both through PyAV, in memory; the MP3
    container's encoder-delay header lines the decoded samples up with the input. MPEG audio
    below 32 kHz (e.g. AV-Deepfake1M's 16 kHz) allows at most 160 kbit/s, where LAME would
    silently lower the protocol's higher rates; such a waveform is resampled (polyphase,
    ``scipy.signal.resample_poly``) to 32 kHz (48 kHz above 32 kHz), encoded at the level's
    rate, decoded and resampled back. Deterministic. Only the decoded part of the waveform is
    used (``audio_window``); a silent clip is left unchanged.

    Args:
        level: 0 (identity) or 1..5.
        seed: Unused (kept for a uniform interface).
    """

    name = 'mp3'
    modality = 'audio'
    levels = (320, 256, 192, 128, 64)
    parameter = 'bit rate (kbit/s)'

    @staticmethod
    def encoding_rate(sample_rate: int) -> int:
        """The MPEG-1 sample rate a waveform at ``sample_rate`` is encoded at."""
        if sample_rate in MPEG1_RATES:
            return sample_rate
        return 32000 if sample_rate <= 32000 else 48000

    def perturb(self, data: np.ndarray, results: Dict, rng: np.random.Generator) -> np.ndarray:
        """Compress a (N,) float32 waveform at ``results['audio_sr']``."""
        from scipy.signal import resample_poly
        sr = int(results.get('audio_sr', 16000))
        rate = self.encoding_rate(sr)
        g = math.gcd(sr, rate)
        x = data if rate == sr else resample_poly(data, rate // g, sr // g).astype(np.float32)
        y = self._round_trip(x, rate, int(self.value) * 1000)
        if rate != sr:
            y = resample_poly(y, sr // g, rate // g)
        y = np.asarray(y, dtype=np.float32)[:data.size]
        return np.pad(y, (0, data.size - y.size)) if y.size < data.size else y

    @staticmethod
    def _round_trip(x: np.ndarray, rate: int, bit_rate: int) -> np.ndarray:
        """MP3-encode and decode a mono float32 waveform (in memory)."""
        import av
        buf = io.BytesIO()
        with av.open(buf, 'w', format='mp3') as container:
            stream = container.add_stream('libmp3lame', rate=rate, layout='mono')
            stream.bit_rate = bit_rate
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(x)[None], format='flt',
                                               layout='mono')
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
        buf.seek(0)
        with av.open(buf, 'r', format='mp3') as container:
            chunks = [f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]
        if not chunks:
            raise RuntimeError('the MP3 round trip decoded no audio')
        return np.concatenate(chunks)
