"""Leading silence of a video file's audio track, for the leading-silence audit.

The detector itself (:func:`leading_silence_seconds`, and the definition of the leading silence)
lives in :mod:`holaframe.datasets.leading_silence`, shared with the ``TrimLeadingSilence``
transform; this module decodes a file's audio track and applies it.
"""

from typing import Optional, Tuple

import numpy as np

from holaframe.datasets.leading_silence import SAMPLE_RATE, leading_silence_seconds

__all__ = ['SAMPLE_RATE', 'leading_silence_seconds', 'read_audio', 'file_leading_silence']


def read_audio(path: str, sample_rate: int = SAMPLE_RATE) -> Tuple[np.ndarray, bool]:
    """Decode the audio track of a video as mono float samples.

    Args:
        path (str): Video or audio file.
        sample_rate (int): Target rate in Hz.

    Returns:
        tuple: ``(waveform, has_audio)``; an empty array and False when the file has no audio
        stream.

    Raises:
        RuntimeError: When the file cannot be opened at all.
    """
    import av  # PyAV: robust for files with or without an audio stream

    try:
        container = av.open(path)
    except Exception as exc:  # noqa: BLE001 - report which file is unreadable
        raise RuntimeError(f'Cannot open {path}: {exc}') from exc
    with container:
        if not container.streams.audio:
            return np.zeros(0, dtype=np.float32), False
        resampler = av.AudioResampler(format='flt', layout='mono', rate=sample_rate)
        chunks = []
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    if not chunks:
        return np.zeros(0, dtype=np.float32), True
    return np.concatenate(chunks).astype(np.float32), True


def file_leading_silence(path: str, **kwargs) -> Optional[float]:
    """Leading silence in seconds of the audio track of ``path``; None without an audio track.

    Args:
        path (str): Video file.
        **kwargs: Passed to :func:`leading_silence_seconds`.
    """
    wave, has_audio = read_audio(path)
    if not has_audio:
        return None
    return leading_silence_seconds(wave, SAMPLE_RATE, **kwargs)
