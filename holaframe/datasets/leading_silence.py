"""Leading-silence detector shared by ``TrimLeadingSilence`` and the leading-silence audit.

Deepfake and spoofing corpora are known to leak the label through the length of the silence
before the first sound (Mueller et al., "Speech is silver, silence is golden", Interspeech 2021):
a detector can score well by timing the silence instead of looking at the forgery. The audit in
:class:`~holaframe.evaluation.VideoMetric` measures this leak on the evaluated set, and
:class:`~holaframe.datasets.transforms.TrimLeadingSilence` cuts the silence off for re-scoring.

Definition used everywhere in holaframe: the leading silence of a clip is the time from the start
of its audio track to the first 25 ms analysis frame (hop 10 ms) whose RMS level reaches the
highest of three levels: ``threshold_db`` (35 dB) below the loudest frame of the clip, the
clip's noise floor (the 10th percentile of its frame levels) plus ``noise_margin_db`` (10 dB),
and an absolute -60 dBFS. The noise-floor term keeps recorded background noise from counting
as sound. A clip without an audio track, or whose audio never reaches that level, is entirely
silent: its leading silence is its audio duration (0 when there is no audio track).
"""

import numpy as np

SAMPLE_RATE = 16000


def leading_silence_seconds(waveform: np.ndarray,
                            sample_rate: int = SAMPLE_RATE,
                            threshold_db: float = 35.0,
                            noise_margin_db: float = 10.0,
                            floor_dbfs: float = -60.0,
                            frame_s: float = 0.025,
                            hop_s: float = 0.010) -> float:
    """Seconds of silence before the first sounding frame (see the module docstring).

    Args:
        waveform (np.ndarray): Mono samples in [-1, 1], shape ``(num_samples,)``.
        sample_rate (int): Sampling rate in Hz.
        threshold_db (float): A frame sounds when its RMS is at most this many dB below the
            loudest frame's RMS, ...
        noise_margin_db (float): ... at least this many dB above the noise floor (10th
            percentile of the frame levels) ...
        floor_dbfs (float): ... and above this absolute level (dB relative to full scale).
        frame_s (float): Analysis frame length in seconds.
        hop_s (float): Hop between frames in seconds.

    Returns:
        float: The onset time of the first sounding frame, or the whole duration when none does.
    """
    wave = np.asarray(waveform, dtype=np.float64).reshape(-1)
    duration = wave.size / float(sample_rate)
    frame = max(1, int(round(frame_s * sample_rate)))
    hop = max(1, int(round(hop_s * sample_rate)))
    if wave.size == 0:
        return 0.0
    if wave.size < frame:
        wave = np.pad(wave, (0, frame - wave.size))
    num_frames = 1 + (wave.size - frame) // hop
    idx = np.arange(frame)[None, :] + hop * np.arange(num_frames)[:, None]
    rms = np.sqrt((wave[idx]**2).mean(axis=1))
    level_db = 20.0 * np.log10(np.maximum(rms, 1e-12))
    noise_floor = np.percentile(level_db, 10)
    level = max(level_db.max() - threshold_db, noise_floor + noise_margin_db, floor_dbfs)
    sounding = level_db >= level
    if not sounding.any():
        return duration
    return min(duration, float(np.argmax(sounding)) * hop / sample_rate)
