"""Generator of a small synthetic AV-Deepfake1M++ dataset (same layout and metadata fields).

Design (see ``docs/data.md``):

* Every *original* clip is a drawn cartoon face (random background / skin / lip colours, size,
  position jitter, slow head motion, blinking) whose mouth opening follows the loudness envelope
  of a synthetic "speech" signal: words of 1-3 voiced syllables (harmonic tones of a
  speaker-specific pitch shaped by vowel formants, with attack/decay envelopes, optional
  consonant noise bursts), separated by pauses.
* Originals come in pairs: the real clip and one word-level edit of the same original, so
  duration, leading silence, loudness and file size cannot tell the classes apart. An edit
  replaces 1-3 whole words of 0.2-0.6 s (never in the first 0.5 s):

  - ``audio_modified``: the words' audio is replaced by other words of the same speaker with
    the same duration and loudness; the mouth keeps following the original audio;
  - ``visual_modified``: the mouth inside the segments follows a different word's envelope;
    the audio is untouched;
  - ``both_modified``: audio replaced and the mouth follows the new audio, but late by 2-4
    frames and with a blurred mouth (the artefact of a lip-sync model).

  Only the correspondence between the mouth and the audio reveals an edit.
* A few extra *silent* real clips (``silent_videos/...``, 1280x720, no audio stream) mimic the
  dataset's silent source.

Everything is drawn from ``numpy.random.default_rng([seed, subset, index])``: the metadata is
byte-identical and the decoded content the same for a given seed. Only PyAV (H.264 + AAC) and
OpenCV are needed; no ffmpeg binary.
"""

import json
import os
import os.path as osp
import sys
from fractions import Fraction
from typing import Dict, List, Optional, Sequence, Tuple

import av
import cv2
import numpy as np
from tqdm import tqdm

__all__ = ['generate_synthetic_avdf', 'synthesize_speech', 'write_av_clip', 'SUBSETS']

SUBSETS = ('train', 'val', 'testA', 'testB')
LABELED_SUBSETS = ('train', 'val')
FPS = 25
SAMPLE_RATE = 16000
SAMPLES_PER_FRAME = SAMPLE_RATE // FPS  # 640
# Vowel formants (F1, F2, F3) in Hz.
_VOWELS = np.array([[730, 1090, 2440], [270, 2290, 3010], [300, 870, 2240], [530, 1840, 2480],
                    [570, 840, 2410], [660, 1720, 2410], [440, 1020, 2240]], dtype=np.float64)
_FAKE_NAMES = {
    'audio_modified': 'real_video_fake_audio.mp4',
    'visual_modified': 'fake_video_real_audio.mp4',
    'both_modified': 'fake_video_fake_audio.mp4',
}
_AUDIO_MODELS = ('synth-formant-tts-a', 'synth-formant-tts-b')
_VIDEO_MODELS = ('synth-envelope-lipsync-a', 'synth-envelope-lipsync-b')
_SOURCES = ('vox_celeb_2', 'lrs3')
_ALPHABET = np.array(list('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'))


# ----------------------------------------------------------------------------- speech synthesis
def _syllable(rng: np.random.Generator, dur: float, f0: float, amp: float) -> np.ndarray:
    """One voiced syllable (harmonics shaped by a random vowel's formants) of ``dur`` seconds."""
    n = max(int(round(dur * SAMPLE_RATE)), 16)
    t = np.arange(n) / SAMPLE_RATE
    formants = _VOWELS[rng.integers(len(_VOWELS))] * rng.uniform(0.92, 1.08)
    contour = f0 * (1.0 + rng.uniform(-0.08, 0.08) * np.linspace(-1, 1, n)
                    + 0.02 * np.sin(2 * np.pi * rng.uniform(3, 6) * t))
    phase = 2 * np.pi * np.cumsum(contour) / SAMPLE_RATE
    num_h = int(min(3800 / f0, 40))
    k = np.arange(1, num_h + 1)[:, None]
    freqs = k * f0
    gains = sum(1.0 / (1.0 + ((freqs - fm) / bw) ** 2)
                for fm, bw in zip(formants, (90.0, 120.0, 180.0))) / k ** 0.6
    wave = (gains * np.sin(k * phase[None, :])).sum(0)
    attack = int(n * rng.uniform(0.12, 0.25))
    decay = int(n * rng.uniform(0.25, 0.4))
    env = np.ones(n)
    env[:attack] = np.sin(np.linspace(0, np.pi / 2, attack)) ** 2
    env[n - decay:] = np.cos(np.linspace(0, np.pi / 2, decay)) ** 2
    wave = wave * env
    if rng.random() < 0.5:  # consonant burst at the onset
        nb = min(int(rng.uniform(0.015, 0.035) * SAMPLE_RATE), n)
        burst = rng.standard_normal(nb) * np.hanning(nb) * 0.3 * np.abs(wave).max()
        wave[:nb] += burst
    return amp * wave / (np.abs(wave).max() + 1e-8)


def _word(rng: np.random.Generator, f0: float, target: Optional[float] = None) -> np.ndarray:
    """A word of 1-3 syllables; with ``target`` (s) it lasts exactly that long.

    For a target length the number of syllables is drawn among those whose natural durations
    (0.09-0.2 s each, gaps up to 0.04 s) can make that length, so a replacement word is no
    longer or slower than a natural word of the same length.
    """
    if target is None:
        nsyl = int(rng.choice([1, 2, 2, 3, 3]))
    else:
        feasible = [k for k in (1, 2, 3) if 0.09 * k <= target <= 0.2 * k + 0.04 * (k - 1)]
        nsyl = int(rng.choice(feasible or [3]))
    durs = rng.uniform(0.09, 0.2, nsyl)
    gaps = rng.uniform(0.0, 0.04, max(nsyl - 1, 0))
    if target is not None:
        scale = target / (durs.sum() + gaps.sum())
        durs, gaps = durs * scale, gaps * scale
    parts = []
    for i in range(nsyl):
        parts.append(_syllable(rng, durs[i], f0 * rng.uniform(0.9, 1.12), rng.uniform(0.55, 1.0)))
        if i < nsyl - 1:
            parts.append(np.zeros(int(round(gaps[i] * SAMPLE_RATE))))
    word = np.concatenate(parts)
    if target is not None:
        n = int(round(target * SAMPLE_RATE))
        word = np.pad(word, (0, max(n - len(word), 0)))[:n]
    return word


def synthesize_speech(rng: np.random.Generator, duration: float, f0: float
                      ) -> Tuple[np.ndarray, List[Tuple[int, int]]]:
    """Synthesise a 'speech' waveform of exactly ``duration`` seconds.

    Args:
        rng: Random generator.
        duration: Length in seconds.
        f0: Speaker's base pitch in Hz.

    Returns:
        The float64 waveform at 16 kHz (peak about 1) and the word spans as (start, end) sample
        indices.
    """
    n = int(round(duration * SAMPLE_RATE))
    wave = np.zeros(n)
    words = []
    pos = int(rng.uniform(0.05, 0.3) * SAMPLE_RATE)  # leading silence
    while True:
        w = _word(rng, f0 * rng.uniform(0.95, 1.05))
        if pos + len(w) > n - int(0.05 * SAMPLE_RATE):
            break
        wave[pos:pos + len(w)] = w
        words.append((pos, pos + len(w)))
        pos += len(w) + int(rng.uniform(0.06, 0.35) * SAMPLE_RATE)
    return wave, words


def _frame_rms(wave: np.ndarray, num_frames: int) -> np.ndarray:
    """RMS of the waveform in each 40 ms video-frame window."""
    w = np.pad(wave, (0, max(num_frames * SAMPLES_PER_FRAME - len(wave), 0)))
    w = w[:num_frames * SAMPLES_PER_FRAME].reshape(num_frames, SAMPLES_PER_FRAME)
    return np.sqrt((w ** 2).mean(1))


def _openings(wave: np.ndarray, num_frames: int, ref: float) -> np.ndarray:
    """Mouth opening in [0, 1] per video frame, following the loudness envelope."""
    o = np.clip(_frame_rms(wave, num_frames) / ref, 0.0, 1.2) ** 0.7
    o = np.convolve(np.pad(o, 1, mode='edge'), [0.25, 0.5, 0.25], mode='valid')
    return np.clip(o, 0.0, 1.0)


# ----------------------------------------------------------------------------- face drawing
def _face_params(rng: np.random.Generator) -> Dict:
    """Random appearance and motion of one cartoon speaker."""
    return dict(
        bg=rng.integers(0, 256, 3), bg2=rng.integers(0, 256, 3),
        skin=np.array([rng.integers(140, 250), rng.integers(100, 210), rng.integers(70, 180)]),
        lip=np.array([rng.integers(120, 220), rng.integers(30, 90), rng.integers(40, 100)]),
        eye=rng.integers(10, 120, 3),
        rx=rng.uniform(60, 72), ry=rng.uniform(78, 92),
        cx=112 + rng.uniform(-8, 8), cy=102 + rng.uniform(-6, 6),
        amp=rng.uniform(0, 4, 2), freq=rng.uniform(0.1, 0.5, 2), phase=rng.uniform(0, 6.3, 2),
        mouth_w=rng.uniform(15, 21), mouth_h=rng.uniform(12, 16),
    )


def _blinks(rng: np.random.Generator, num_frames: int) -> np.ndarray:
    """Per-frame eye openness (1 open, ~0.1 closed) with blinks every 2-5 s."""
    eye = np.ones(num_frames)
    t = int(rng.uniform(0.5, 3.0) * FPS)
    while t < num_frames:
        eye[t:t + 3] = [0.5, 0.1, 0.5][:len(eye[t:t + 3])]
        t += int(rng.uniform(2.0, 5.0) * FPS)
    return eye


def _draw_frame(p: Dict, t: int, opening: float, eye_open: float, size: Tuple[int, int],
                blur_mouth: bool = False) -> np.ndarray:
    """Draw one RGB frame (height, width) = ``size`` of the cartoon face."""
    h, w = size
    s = min(h, w) / 224.0
    ox, oy = (w - 224 * s) / 2, (h - 224 * s) / 2
    img = np.empty((h, w, 3), np.uint8)
    ramp = np.linspace(0, 1, h)[:, None]
    img[:] = (p['bg'] * (1 - ramp) + p['bg2'] * ramp)[:, None, :].astype(np.uint8)
    sec = t / FPS
    cx = ox + s * (p['cx'] + p['amp'][0] * np.sin(2 * np.pi * p['freq'][0] * sec + p['phase'][0]))
    cy = oy + s * (p['cy'] + p['amp'][1] * np.sin(2 * np.pi * p['freq'][1] * sec + p['phase'][1]))
    rx, ry = s * p['rx'], s * p['ry']
    sh = 4  # sub-pixel precision bits for cv2 drawing
    f = float(1 << sh)

    def pt(x, y):
        return int(round(x * f)), int(round(y * f))

    def ax(a, b):
        return max(int(round(a * f)), 1), max(int(round(b * f)), 1)

    aa = cv2.LINE_AA
    cv2.ellipse(img, pt(cx, cy), ax(rx, ry), 0, 0, 360, p['skin'].tolist(), -1, aa, sh)
    for side in (-1, 1):
        ex, ey = cx + side * 0.38 * rx, cy - 0.22 * ry
        cv2.ellipse(img, pt(ex, ey), ax(0.18 * rx, 0.11 * ry * eye_open), 0, 0, 360,
                    (245, 245, 245), -1, aa, sh)
        if eye_open > 0.3:
            cv2.circle(img, pt(ex, ey), int(0.07 * rx * f), p['eye'].tolist(), -1, aa, sh)
        cv2.line(img, pt(ex - 0.2 * rx, ey - 0.2 * ry), pt(ex + 0.2 * rx, ey - 0.22 * ry),
                 (60, 40, 30), max(int(2 * s), 1), aa, sh)
    nose = (p['skin'] * 0.75).astype(int).tolist()
    cv2.line(img, pt(cx, cy - 0.05 * ry), pt(cx - 0.06 * rx, cy + 0.2 * ry), nose,
             max(int(2 * s), 1), aa, sh)
    mx, my = cx, cy + 0.5 * ry
    mw = s * p['mouth_w'] * (1.0 - 0.15 * opening)
    mh = s * (2.0 + p['mouth_h'] * opening)
    cv2.ellipse(img, pt(mx, my), ax(mw + 2 * s, mh + 2 * s), 0, 0, 360, p['lip'].tolist(), -1,
                aa, sh)
    if opening > 0.05:
        cv2.ellipse(img, pt(mx, my), ax(mw - s, mh - s), 0, 0, 360, (40, 10, 20), -1, aa, sh)
        cv2.ellipse(img, pt(mx, my - 0.55 * mh), ax(0.7 * mw, 0.22 * mh), 0, 0, 360,
                    (235, 235, 230), -1, aa, sh)
    if blur_mouth:
        x0, x1 = int(max(mx - mw - 8 * s, 0)), int(min(mx + mw + 8 * s, w))
        y0, y1 = int(max(my - mh - 8 * s, 0)), int(min(my + mh + 8 * s, h))
        k = 2 * int(2 * s) + 3
        img[y0:y1, x0:x1] = cv2.GaussianBlur(img[y0:y1, x0:x1], (k, k), 0)
    return img


# ----------------------------------------------------------------------------- encoding
def write_av_clip(path: str, frames: Sequence[np.ndarray], audio: Optional[np.ndarray],
                  fps: int = FPS, crf: int = 23, preset: str = 'veryfast') -> None:
    """Write RGB frames (H.264, yuv420p) and optional mono 16 kHz audio (AAC) to an mp4.

    Args:
        path: Output file.
        frames: RGB uint8 frames of equal shape (H, W, 3); H and W must be even.
        audio: Float waveform in [-1, 1] at 16 kHz, or None for a clip without audio stream.
        fps: Frame rate.
        crf: x264 constant rate factor.
        preset: x264 preset.
    """
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    h, w = frames[0].shape[:2]
    with av.open(path, mode='w', format='mp4') as container:
        vs = container.add_stream('libx264', rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, 'yuv420p'
        vs.codec_context.thread_count = 1
        vs.options = {'crf': str(crf), 'preset': preset}
        as_ = None
        if audio is not None:
            as_ = container.add_stream('aac', rate=SAMPLE_RATE, layout='mono')
            as_.codec_context.thread_count = 1
        for i, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format='rgb24')
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in vs.encode(frame):
                container.mux(packet)
        for packet in vs.encode():
            container.mux(packet)
        if as_ is not None:
            data = np.clip(audio, -1, 1).astype(np.float32)
            step = 1024
            for i in range(0, len(data), step):
                chunk = data[i:i + step][None, :]
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format='fltp',
                                                layout='mono')
                af.sample_rate = SAMPLE_RATE
                af.pts = i
                af.time_base = Fraction(1, SAMPLE_RATE)
                for packet in as_.encode(af):
                    container.mux(packet)
            for packet in as_.encode():
                container.mux(packet)


# ----------------------------------------------------------------------------- clip synthesis
def _rand_id(rng: np.random.Generator, n: int) -> str:
    return ''.join(rng.choice(_ALPHABET, n))


def _choose_segments(rng: np.random.Generator, words: List[Tuple[int, int]],
                     num_frames: int, segment_range: Optional[Tuple[float, float]] = None
                     ) -> List[Tuple[int, int, int, int]]:
    """Pick 1-3 words of 0.2-0.6 s starting after 0.5 s.

    Args:
        rng: Generator of the pair.
        words: (first sample, end sample) of each word.
        num_frames: Frames of the clip.
        segment_range: Optional (start, end) in seconds that every edit must lie in (negative
            values count from the end of the clip); None places edits anywhere.

    Returns:
        (first frame, end frame, first sample, end sample) of each edited word; the frame span
        (the metadata segment) covers the word's samples.
    """
    lo_f, hi_f = 0, num_frames
    if segment_range is not None:
        lo_s, hi_s = (float(x) + (num_frames / FPS if float(x) < 0 else 0.0)
                      for x in segment_range)
        lo_f, hi_f = int(np.ceil(lo_s * FPS)), int(np.floor(hi_s * FPS))
    cands = []
    for s, e in words:
        f0, f1 = s // SAMPLES_PER_FRAME, -(-e // SAMPLES_PER_FRAME)
        if f0 >= int(0.5 * FPS) and 5 <= f1 - f0 <= 15 and f1 <= num_frames - 2 and (
                segment_range is None or (f0 >= lo_f and f1 <= hi_f)):
            cands.append((f0, f1, s, e))
    if not cands:  # forced edit in the middle of the clip (rare) or of the range
        if segment_range is None:
            f0 = max(num_frames // 2 - 4, int(0.5 * FPS))
        else:
            last = min(hi_f, num_frames - 2)
            if last - max(lo_f, int(0.5 * FPS)) < 8:
                raise ValueError(f'synthetic_avdf.py: segment_range {segment_range} leaves no '
                                 f'room for an 8-frame edit in a clip of {num_frames} frames')
            f0 = max((max(lo_f, int(0.5 * FPS)) + last) // 2 - 4, lo_f, int(0.5 * FPS))
        cands = [(f0, f0 + 8, f0 * SAMPLES_PER_FRAME, (f0 + 8) * SAMPLES_PER_FRAME)]
    k = min(int(rng.integers(1, 4)), len(cands))
    idx = np.sort(rng.choice(len(cands), k, replace=False))
    return [cands[i] for i in idx]


def _say_word_at(rng: np.random.Generator, speech: np.ndarray, words: List[Tuple[int, int]],
                 start: int, end: int, f0: float
                 ) -> Tuple[np.ndarray, List[Tuple[int, int]]]:
    """A copy of ``speech`` with the words near ``[start, end)`` removed and a new word there.

    Words that overlap the span or come within 0.06 s of it are silenced, so the new word
    (exactly ``end - start`` samples) has a pause on both sides.
    """
    pad = int(0.06 * SAMPLE_RATE)
    speech = speech.copy()
    kept = []
    for a, b in words:
        if b > start - pad and a < end + pad:
            speech[a:b] = 0.0
        else:
            kept.append((a, b))
    speech[start:end] = _word(rng, f0 * rng.uniform(0.95, 1.05), target=(end - start) / SAMPLE_RATE)
    return speech, sorted(kept + [(start, end)])


def _make_pair(rng: np.random.Generator, duration: float, modify_type: str,
               size: Tuple[int, int],
               segment_range: Optional[Tuple[float, float]] = None) -> Dict:
    """Synthesise the real clip and its edited version (``modify_type``) of one original."""
    num_frames = int(round(duration * FPS))
    n = num_frames * SAMPLES_PER_FRAME
    f0 = rng.uniform(90, 230)
    speech, words = synthesize_speech(rng, num_frames / FPS, f0)
    gain = rng.uniform(0.08, 0.2)
    noise = rng.standard_normal(n) * rng.uniform(0.002, 0.006)
    real_audio = speech * gain + noise
    voiced = _frame_rms(speech, num_frames)
    ref = np.quantile(voiced[voiced > 1e-4], 0.9) if (voiced > 1e-4).any() else 1.0
    real_open = _openings(speech, num_frames, ref)
    params = _face_params(rng)
    eye = _blinks(rng, num_frames)

    segs = _choose_segments(rng, words, num_frames, segment_range)
    if segment_range is not None and (segs[0][2], segs[0][3]) not in words:
        # No word of the original lies in the requested range (the edit was forced there): the
        # original says a word in that span instead, with a pause either side, so that the
        # fake replaces a word as every other edit does rather than writing over a pause and
        # the end of a neighbouring word.
        speech, words = _say_word_at(rng, speech, words, segs[0][2], segs[0][3], f0)
        real_audio = speech * gain + noise
        voiced = _frame_rms(speech, num_frames)
        ref = np.quantile(voiced[voiced > 1e-4], 0.9) if (voiced > 1e-4).any() else 1.0
        real_open = _openings(speech, num_frames, ref)
    fake_speech = speech.copy()
    alt_speech = speech.copy()
    for f0_, f1_, s, e in segs:
        # The word's own samples are replaced (the pauses around it stay), by a word of the
        # same length, loudness and voice.
        orig = speech[s:e]
        best, best_corr = None, np.inf
        for _ in range(12):  # a replacement whose envelope does not follow the original word
            cand = _word(rng, f0 * rng.uniform(0.95, 1.05), target=(e - s) / SAMPLE_RATE)
            cand *= np.sqrt((orig ** 2).mean() / ((cand ** 2).mean() + 1e-12))
            a, b = _frame_rms(orig, f1_ - f0_), _frame_rms(cand, f1_ - f0_)
            corr = np.corrcoef(a, b)[0, 1] if a.std() > 0 and b.std() > 0 else 0.0
            if corr < best_corr:
                best, best_corr = cand, corr
            if corr < 0.2:
                break
        # Both words start and end at silence (attack / decay envelopes): a plain substitution,
        # no cross-fade that would mix two voices for a few milliseconds.
        alt_speech[s:e] = best
    alt_open = _openings(alt_speech, num_frames, ref)

    fake_open = real_open.copy()
    blur = np.zeros(num_frames, bool)
    lag = int(rng.integers(2, 5))
    for f0_, f1_, _, _ in segs:
        if modify_type == 'visual_modified':
            fake_open[f0_:f1_] = alt_open[f0_:f1_]
        elif modify_type == 'both_modified':
            fake_open[f0_:f1_] = alt_open[f0_ - lag:f1_ - lag]
            blur[f0_:f1_] = True
    if modify_type in ('audio_modified', 'both_modified'):
        fake_speech = alt_speech
    fake_audio = fake_speech * gain + noise

    real_frames = [_draw_frame(params, t, real_open[t], eye[t], size) for t in range(num_frames)]
    fake_frames = real_frames
    if modify_type != 'audio_modified':
        fake_frames = list(real_frames)
        for f0_, f1_, _, _ in segs:
            for t in range(max(f0_ - 1, 0), min(f1_ + 1, num_frames)):
                fake_frames[t] = _draw_frame(params, t, fake_open[t], eye[t], size, blur[t])
    segments = [[round(a / FPS, 3), round(b / FPS, 3)] for a, b, _, _ in segs]
    return dict(num_frames=num_frames, num_samples=n, real=(real_frames, real_audio),
                fake=(fake_frames, fake_audio), segments=segments)


def _meta(file: str, original: Optional[str], split: str, modify_type: str, segments: List,
          num_frames: int, num_samples: int, audio_model: str, video_model: str) -> Dict:
    audio_segs = segments if modify_type in ('audio_modified', 'both_modified') else []
    visual_segs = segments if modify_type in ('visual_modified', 'both_modified') else []
    return dict(file=file, original=original, split=split, modify_type=modify_type,
                audio_model=audio_model, video_model=video_model, fake_segments=segments,
                audio_fake_segments=audio_segs, visual_fake_segments=visual_segs,
                video_frames=num_frames, audio_frames=num_samples)


def _generate_subset(root: str, subset: str, num: int, num_silent: int, seed: int,
                     duration_range: Tuple[float, float], frame_size: int,
                     silent_size: Tuple[int, int], bar=None,
                     segment_range: Optional[Tuple[float, float]] = None) -> List[Dict]:
    sub_id = SUBSETS.index(subset)
    split = 'test' if subset.startswith('test') else subset
    out = []
    types = ('audio_modified', 'visual_modified', 'both_modified')
    num_pairs = (num + 1) // 2
    for i in range(num_pairs):
        rng = np.random.default_rng([seed, sub_id, i])
        src = _SOURCES[int(rng.integers(len(_SOURCES)))]
        folder = f'{src}/id{int(rng.integers(10000, 99999)):05d}/{_rand_id(rng, 11)}/{i:05d}'
        duration = float(rng.uniform(*duration_range))
        modify_type = types[int(rng.integers(3))]
        pair = _make_pair(rng, duration, modify_type, (frame_size, frame_size), segment_range)
        real_file = f'{folder}/real.mp4'
        fake_file = f'{folder}/{_FAKE_NAMES[modify_type]}'
        am = _AUDIO_MODELS[int(rng.integers(2))] if modify_type != 'visual_modified' else ''
        vm = _VIDEO_MODELS[int(rng.integers(2))] if modify_type != 'audio_modified' else ''
        items = [(real_file, None, 'real', [], pair['real'], '', '')]
        if 2 * i + 1 < num:
            items.append((fake_file, real_file, modify_type, pair['segments'], pair['fake'], am,
                          vm))
        for file, original, mt, segs, (frames, audio), a_m, v_m in items:
            write_av_clip(osp.join(root, subset, file), frames, audio)
            out.append(_meta(file, original, split, mt, segs, pair['num_frames'],
                             pair['num_samples'], a_m, v_m))
            if bar is not None:
                bar.update(1)
    for j in range(num_silent):
        rng = np.random.default_rng([seed, sub_id, 100000 + j])
        file = f'silent_videos/{_rand_id(rng, 11)}/{j:05d}/real.mp4'
        num_frames = int(round(float(rng.uniform(*duration_range)) * FPS))
        params = _face_params(rng)
        eye = _blinks(rng, num_frames)
        mouth = np.clip(0.2 + 0.1 * np.sin(np.arange(num_frames) * rng.uniform(0.1, 0.4)), 0, 1)
        frames = [_draw_frame(params, t, mouth[t], eye[t], silent_size)
                  for t in range(num_frames)]
        write_av_clip(osp.join(root, subset, file), frames, None, preset='ultrafast')
        out.append(_meta(file, None, split, 'real', [], num_frames, 0, '', ''))
        if bar is not None:
            bar.update(1)
    return out


def generate_synthetic_avdf(root: str, num_train: int, num_val: int, num_testA: int,
                            num_testB: int, seed: int = 0, num_silent: int = 1,
                            duration_range: Tuple[float, float] = (3.0, 6.0),
                            frame_size: int = 224, silent_size: Tuple[int, int] = (720, 1280),
                            write_test_labels: bool = True,
                            progress: bool = False,
                            segment_range: Optional[Tuple[float, float]] = None
                            ) -> Dict[str, List[Dict]]:
    """Write a synthetic dataset in the AV-Deepfake1M++ layout under ``root``.

    Layout: ``root/{train,val,testA,testB}/<rel path>.mp4``; ``root/{train,val}_metadata.json``
    (a JSON list) plus ``<rel path>.json`` next to each labeled video; ``root/testA_files.txt`` and
    ``root/testB_files.txt`` (one relative path per line). With ``write_test_labels`` the hidden
    test labels go to ``root/hidden_labels/{testA,testB}_metadata.json`` (not part of the real
    layout; for evaluating pseudo-labelling on synthetic data only).

    Args:
        root: Output folder (created).
        num_train: Number of audio-visual train clips (half real, half fake).
        num_val: Number of validation clips.
        num_testA: Number of testA clips.
        num_testB: Number of testB clips.
        seed: Random seed; the same seed gives byte-identical metadata and the same content.
        num_silent: Extra silent real clips (no audio stream, ``silent_size``) added to the train
            and val subsets each.
        duration_range: Clip duration range in seconds.
        frame_size: Side of the square talking-face frames (224 like the real dataset; smaller
            for fast tests).
        silent_size: (height, width) of silent clips.
        write_test_labels: Also write the test subsets' hidden metadata (see above).
        progress: Show a progress bar over the clips (standard error).
        segment_range: Optional ``(start, end)`` in seconds that every fake segment must lie
            in; negative values count from the end of the clip (``(-1.0, -0.08)``: within the
            last second, at least two frames before the end). None (default) places the edits
            anywhere after the first 0.5 s, as before.

    Returns:
        The metadata list of each subset.
    """
    if frame_size % 2 or frame_size < 32:
        raise ValueError(f'frame_size must be even and >= 32, got {frame_size}')
    if duration_range[0] < 2.5:
        raise ValueError(f'clips must last at least 2.5 s, got duration_range={duration_range}')
    os.makedirs(root, exist_ok=True)
    counts = dict(train=num_train, val=num_val, testA=num_testA, testB=num_testB)
    total = sum(counts.values()) + num_silent * len(LABELED_SUBSETS)
    bar = tqdm(total=total, desc='synthetic clips', unit='clip', file=sys.stderr,
               disable=not progress)
    result = {}
    for subset in SUBSETS:
        silent = num_silent if subset in LABELED_SUBSETS else 0
        bar.set_postfix_str(subset)
        meta = _generate_subset(root, subset, counts[subset], silent, seed, duration_range,
                                frame_size, silent_size, bar, segment_range)
        result[subset] = meta
        if subset in LABELED_SUBSETS:
            with open(osp.join(root, f'{subset}_metadata.json'), 'w') as f:
                json.dump(meta, f, indent=1)
            for m in meta:
                with open(osp.join(root, subset, m['file'][:-4] + '.json'), 'w') as f:
                    json.dump(m, f)
        else:
            with open(osp.join(root, f'{subset}_files.txt'), 'w') as f:
                f.write(''.join(m['file'] + '\n' for m in meta))
            if write_test_labels:
                os.makedirs(osp.join(root, 'hidden_labels'), exist_ok=True)
                with open(osp.join(root, 'hidden_labels', f'{subset}_metadata.json'), 'w') as f:
                    json.dump(meta, f, indent=1)
    bar.close()
    return result
