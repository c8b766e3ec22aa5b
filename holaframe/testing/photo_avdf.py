"""A second, independent synthetic AV-Deepfake1M++ generator: talking photographs.

Same layout and metadata fields as :func:`.generate_synthetic_avdf` (the cartoon generator),
built from different parts, so that a detector trained on one generator can be tested on the
other (``tools/analysis_tools/cross_dataset.py``, ``docs/generalisation.md``):

* faces: real photographs from ``skimage.data`` with a warped, opening mouth, off-centre and
  drifting (:mod:`.photo_faces`);
* speech: noise-excited source-filter speech (glottal pulses and noise through moving formant
  resonators), reverberated, over a room-noise floor (:mod:`.source_filter_speech`);
* fakes: word-level replacements as AV-Deepfake1M++'s, with the artefacts of real tools:

  - ``audio_modified``: the word is replaced by a voice-cloning TTS word (close pitch and
    formants, flat intonation, clean glottal source), passed through a Griffin-Lim or a
    mel-smoothing band-limited vocoder, spliced in dry (no room reverberation, a lower noise
    floor) with short cross-fades, loudness matched;
  - ``visual_modified``: a lip-sync generator re-renders the lower face inside the segment
    from a TTS word that is not played (the mouth no longer follows the audio), at a lower
    resolution, with a colour and sharpness mismatch, a jittering position and a blend seam;
  - ``both_modified``: the TTS word is played and the lip-sync generator follows it (one frame
    late at most, with frame-to-frame jitter), with the same rendering artefacts.

* real : fake = 1 : 3 as in AV-Deepfake1M++: every original gives its real clip and one fake
  of each modify type, each fake with its own edited words (1-3 words of 0.2-1.0 s after the
  first 0.5 s), so duration, leading silence and loudness are shared within a group;
* clip lengths log-uniform in ``duration_range`` (default 3-20 s, mean 9 s).

Everything is drawn from ``numpy.random.default_rng([seed, 2, subset, index])``: the metadata
is byte-identical and the decoded content the same for a given seed. Needs scikit-image (the
photographs), PyAV and OpenCV.
"""

import json
import multiprocessing
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

import numpy as np
from scipy.signal import fftconvolve, istft, lfilter, stft
from tqdm import tqdm

from .photo_faces import lipsync_patch, mouth_centre, random_face, render_frame
from .source_filter_speech import (
    SAMPLE_RATE,
    random_speaker,
    synthesize_utterance,
    synthesize_word,
    tts_voice,
)
from .synthetic_avdf import (
    _FAKE_NAMES,
    _SOURCES,
    FPS,
    LABELED_SUBSETS,
    SAMPLES_PER_FRAME,
    SUBSETS,
    _meta,
    _rand_id,
    write_av_clip,
)

__all__ = ['generate_photo_avdf', 'MODIFY_TYPES', 'AUDIO_MODELS', 'VIDEO_MODELS']

MODIFY_TYPES = ('visual_modified', 'audio_modified', 'both_modified')
#: The two TTS "models" of the audio fakes (vocoder artefacts).
AUDIO_MODELS = ('photo-tts-griffinlim', 'photo-tts-melvocoder')
#: The two lip-sync "models" of the visual fakes (rendering artefacts).
VIDEO_MODELS = ('photo-lipsync-lowres', 'photo-lipsync-seam')
_GENERATOR_ID = 2  # keeps the random streams apart from the cartoon generator's


# ----------------------------------------------------------------------------- audio
def _room(rng: np.random.Generator, n: int) -> Tuple[np.ndarray, np.ndarray]:
    """A room impulse response (direct path + exponential tail) and ``n`` samples of room noise
    (pink-ish noise and a faint mains hum)."""
    rt60 = rng.uniform(0.15, 0.5)
    ln = int(rt60 * SAMPLE_RATE)
    t = np.arange(ln) / SAMPLE_RATE
    ir = rng.standard_normal(ln) * np.exp(-6.9 * t / rt60) * rng.uniform(0.05, 0.2)
    ir[0] = 1.0
    white = rng.standard_normal(n)
    pink = lfilter([0.05], [1, -0.95], white) + 0.3 * white
    pink /= np.sqrt((pink ** 2).mean()) + 1e-9
    hum_f = 50.0 if rng.random() < 0.5 else 60.0
    hum = np.sin(2 * np.pi * hum_f * np.arange(n) / SAMPLE_RATE) * rng.uniform(0, 0.3)
    return ir, (pink + hum) * rng.uniform(0.002, 0.008)


def _vocoder(rng: np.random.Generator, wave: np.ndarray, model: str) -> np.ndarray:
    """Vocoder artefacts of a TTS word: Griffin-Lim phase, or mel smoothing and band limit."""
    nper, hop = 512, 128
    _, _, spec = stft(wave, nperseg=nper, noverlap=nper - hop)
    mag = np.abs(spec)
    freqs = np.linspace(0, SAMPLE_RATE / 2, mag.shape[0])
    if model == 'photo-tts-melvocoder':
        # magnitude through 24-40 triangular mel bands and back: harmonics smeared
        nb = int(rng.integers(24, 41))
        mel = 2595 * np.log10(1 + freqs / 700)
        edges = np.linspace(0, mel[-1], nb + 2)
        fb = np.clip(1 - np.abs(mel[None, :] - edges[1:-1, None]) /
                     (edges[1] - edges[0]), 0, None)
        fb /= fb.sum(1, keepdims=True) + 1e-9
        back = fb.T / (fb.T.sum(1, keepdims=True) + 1e-9)
        mag = back @ (fb @ mag)
        mag *= (freqs < rng.uniform(5000, 7000))[:, None]  # band limit of the vocoder
        iters = 4
    else:
        iters = int(rng.integers(8, 17))
    phase = np.exp(2j * np.pi * rng.random(mag.shape))
    out = wave
    for _ in range(iters):  # Griffin-Lim from random phase
        _, out = istft(mag * phase, nperseg=nper, noverlap=nper - hop)
        _, _, s = stft(out, nperseg=nper, noverlap=nper - hop)
        s = s[:, :mag.shape[1]]
        if s.shape[1] < mag.shape[1]:
            s = np.pad(s, ((0, 0), (0, mag.shape[1] - s.shape[1])))
        phase = np.exp(1j * np.angle(s))
    _, out = istft(mag * phase, nperseg=nper, noverlap=nper - hop)
    out = np.pad(out, (0, max(len(wave) - len(out), 0)))[:len(wave)]
    return out


def _frame_openness(openness: np.ndarray, num_frames: int, lead: int = 1) -> np.ndarray:
    """Per-frame mouth opening from the per-sample openness: frame mean, the mouth ``lead``
    frames ahead of the sound, smoothed like an articulator."""
    o = np.pad(openness, (0, max(num_frames * SAMPLES_PER_FRAME - len(openness), 0)))
    o = o[:num_frames * SAMPLES_PER_FRAME].reshape(num_frames, SAMPLES_PER_FRAME).mean(1)
    if lead:
        o = np.concatenate([o[lead:], np.zeros(lead)])
    o = np.convolve(np.pad(o, 1, mode='edge'), [0.25, 0.5, 0.25], mode='valid')
    return np.clip(o, 0.0, 1.0)


# ----------------------------------------------------------------------------- edits
def _choose_segments(rng: np.random.Generator, words: List[Tuple[int, int]], num_frames: int
                     ) -> List[Tuple[int, int, int, int]]:
    """1-3 words of 0.2-1.0 s after the first 0.5 s (more in longer clips).

    Returns:
        (first frame, end frame, first sample, end sample) per edited word, sorted.
    """
    cands = []
    for s, e in words:
        f0, f1 = s // SAMPLES_PER_FRAME, -(-e // SAMPLES_PER_FRAME)
        if f0 >= int(0.5 * FPS) and 5 <= f1 - f0 <= 25 and f1 <= num_frames - 2:
            cands.append((f0, f1, s, e))
    if not cands:  # forced edit in the middle of the clip (rare)
        f0 = max(num_frames // 2 - 4, int(0.5 * FPS))
        cands = [(f0, f0 + 8, f0 * SAMPLES_PER_FRAME, (f0 + 8) * SAMPLES_PER_FRAME)]
    most = 1 + int(num_frames >= 8 * FPS) + int(num_frames >= 14 * FPS)
    k = min(int(rng.integers(1, most + 1)), len(cands))
    idx = np.sort(rng.choice(len(cands), k, replace=False))
    return [cands[i] for i in idx]


def _video_style(rng: np.random.Generator, model: str) -> Dict:
    """Rendering artefacts of one lip-sync model on one clip."""
    if model == 'photo-lipsync-lowres':
        return dict(down=rng.uniform(0.3, 0.5), blur=rng.uniform(0.3, 1.0),
                    colour=rng.uniform(-4, 4, 3), contrast=rng.uniform(0.95, 1.0),
                    feather=rng.uniform(3, 6), jitter=int(rng.integers(0, 2)), rect=False)
    return dict(down=rng.uniform(0.55, 0.8), blur=rng.uniform(0.0, 0.5),
                colour=rng.uniform(3, 10, 3) * rng.choice([-1, 1], 3),
                contrast=rng.uniform(0.85, 1.0), feather=rng.uniform(0.5, 1.5),
                jitter=int(rng.integers(1, 3)), rect=True)


def _make_group(rng: np.random.Generator, duration: float, size: Tuple[int, int]) -> Dict:
    """Synthesise one original: its real clip and one fake of each modify type."""
    num_frames = int(round(duration * FPS))
    n = num_frames * SAMPLES_PER_FRAME
    sp = random_speaker(rng)
    dry, openness, words = synthesize_utterance(rng, num_frames / FPS, sp)
    ir, noise = _room(rng, n)
    gain = rng.uniform(0.08, 0.2)
    wet = fftconvolve(dry, ir)[:n]
    wet *= gain / (np.abs(wet).max() + 1e-9)
    real_audio = wet + noise
    expressive = rng.uniform(0.7, 1.0)
    real_open = _frame_openness(openness, num_frames) * expressive
    face = random_face(rng, size)
    nbank = [rng.normal(0, face.noise, size + (3,)).astype(np.int16) for _ in range(6)]
    nidx = rng.integers(0, len(nbank), num_frames)
    real_frames = [render_frame(face, t, real_open[t], size, nbank[nidx[t]])
                   for t in range(num_frames)]
    fakes = {}
    for mt in MODIFY_TYPES:
        segs = _choose_segments(rng, words, num_frames)
        am = AUDIO_MODELS[int(rng.integers(2))] if mt != 'visual_modified' else ''
        vm = VIDEO_MODELS[int(rng.integers(2))] if mt != 'audio_modified' else ''
        tts_sp = tts_voice(rng, sp)
        audio = real_audio.copy()
        fake_open = real_open.copy()
        lag = int(rng.integers(0, 2))
        for f0, f1, s, e in segs:
            word, word_open = synthesize_word(rng, tts_sp, target=(e - s) / SAMPLE_RATE,
                                              monotone=rng.random() < 0.7)
            seg_open = np.zeros(num_frames * SAMPLES_PER_FRAME)
            if mt == 'visual_modified':  # mouth from a TTS word that is not played
                _, word_open = synthesize_word(rng, tts_sp, target=(e - s) / SAMPLE_RATE)
            seg_open[s:e] = word_open
            gen_open = _frame_openness(seg_open, num_frames, lead=1 - lag) * expressive
            gen_open = np.clip(gen_open + rng.normal(0, 0.08, num_frames), 0, 1)
            if mt != 'audio_modified':
                fake_open[f0:f1] = gen_open[f0:f1]
            if mt != 'visual_modified':
                word = _vocoder(rng, word, am)
                speech = wet[s:e]
                word *= np.sqrt((speech ** 2).mean() / ((word ** 2).mean() + 1e-12))
                new = word + noise[s:e] * rng.uniform(0.2, 0.6)  # dry, lower noise floor
                fade = min(64, (e - s) // 4)  # 4 ms splice cross-fades
                w = np.ones(e - s)
                w[:fade] = np.linspace(0, 1, fade)
                w[e - s - fade:] = np.linspace(1, 0, fade)
                audio[s:e] = w * new + (1 - w) * audio[s:e]
        frames = real_frames
        if mt != 'audio_modified':
            style = _video_style(rng, vm)
            frames = list(real_frames)
            for f0, f1, _, _ in segs:
                for t in range(f0, f1):
                    gen = render_frame(face, t, fake_open[t], size, nbank[nidx[t]])
                    frames[t] = lipsync_patch(real_frames[t], gen, mouth_centre(face, t), rng,
                                              style)
        segments = [[round(a / FPS, 3), round(b / FPS, 3)] for a, b, _, _ in segs]
        fakes[mt] = dict(frames=frames, audio=audio, segments=segments, audio_model=am,
                         video_model=vm)
    return dict(num_frames=num_frames, num_samples=n, real=(real_frames, real_audio),
                fakes=fakes)


def _silent_clip(rng: np.random.Generator, duration_range: Tuple[float, float],
                 size: Tuple[int, int]) -> List[np.ndarray]:
    """Frames of a silent clip (no audio stream): a photograph with a slightly moving mouth."""
    num_frames = int(round(min(float(rng.uniform(*duration_range)), 8.0) * FPS))
    face = random_face(rng, size)
    mouth = np.clip(0.1 + 0.1 * np.sin(np.arange(num_frames) * rng.uniform(0.1, 0.4)), 0, 1)
    zero = np.zeros(size + (3,), np.int16)
    return [render_frame(face, t, mouth[t], size, zero) for t in range(num_frames)]


def _write_group(job: Tuple) -> List[Dict]:
    """Write the clips of original ``i`` of a subset (a real clip and up to three fakes)."""
    root, subset, i, keep, seed, duration_range, frame_size = job
    sub_id = SUBSETS.index(subset)
    split = 'test' if subset.startswith('test') else subset
    rng = np.random.default_rng([seed, _GENERATOR_ID, sub_id, i])
    src = _SOURCES[int(rng.integers(len(_SOURCES)))]
    folder = f'{src}/id{int(rng.integers(10000, 99999)):05d}/{_rand_id(rng, 11)}/{i:05d}'
    lo, hi = np.log(duration_range[0]), np.log(duration_range[1])
    duration = float(np.exp(rng.uniform(lo, hi)))
    group = _make_group(rng, duration, (frame_size, frame_size))
    real_file = f'{folder}/real.mp4'
    items = [(real_file, None, 'real', [], group['real'], '', '')]
    for mt in MODIFY_TYPES:
        f = group['fakes'][mt]
        items.append((f'{folder}/{_FAKE_NAMES[mt]}', real_file, mt, f['segments'],
                      (f['frames'], f['audio']), f['audio_model'], f['video_model']))
    out = []
    for file, original, mt, segs, (frames, audio), a_m, v_m in items[:keep]:
        write_av_clip(osp.join(root, subset, file), frames, audio)
        out.append(_meta(file, original, split, mt, segs, group['num_frames'],
                         group['num_samples'], a_m, v_m))
    return out


def _generate_subset(root: str, subset: str, num: int, num_silent: int, seed: int,
                     duration_range: Tuple[float, float], frame_size: int,
                     silent_size: Tuple[int, int], pool=None, bar=None) -> List[Dict]:
    sub_id = SUBSETS.index(subset)
    split = 'test' if subset.startswith('test') else subset
    jobs = [(root, subset, i, min(num - 4 * i, 4), seed, duration_range, frame_size)
            for i in range(-(-num // 4))]
    out = []
    for metas in (pool.imap(_write_group, jobs) if pool is not None else map(_write_group, jobs)):
        out.extend(metas)
        if bar is not None:
            bar.update(len(metas))
    for j in range(num_silent):
        rng = np.random.default_rng([seed, _GENERATOR_ID, sub_id, 100000 + j])
        file = f'silent_videos/{_rand_id(rng, 11)}/{j:05d}/real.mp4'
        frames = _silent_clip(rng, duration_range, silent_size)
        write_av_clip(osp.join(root, subset, file), frames, None, preset='ultrafast')
        out.append(_meta(file, None, split, 'real', [], len(frames), 0, '', ''))
        if bar is not None:
            bar.update(1)
    return out


def generate_photo_avdf(root: str, num_train: int, num_val: int, num_testA: int,
                        num_testB: int, seed: int = 0, num_silent: int = 1,
                        duration_range: Tuple[float, float] = (3.0, 20.0),
                        frame_size: int = 224, silent_size: Tuple[int, int] = (720, 1280),
                        write_test_labels: bool = True, progress: bool = False,
                        workers: int = 1) -> Dict[str, List[Dict]]:
    """Write a talking-photograph dataset in the AV-Deepfake1M++ layout under ``root``.

    The layout and metadata fields are those of :func:`.generate_synthetic_avdf`:
    ``root/{train,val,testA,testB}/<rel path>.mp4``, ``root/{train,val}_metadata.json`` plus
    ``<rel path>.json`` next to each labelled video, ``root/{testA,testB}_files.txt`` and, with
    ``write_test_labels``, ``root/hidden_labels/{testA,testB}_metadata.json``.

    Args:
        root: Output folder (created).
        num_train: Number of audio-visual train clips (one real to three fakes).
        num_val: Number of validation clips.
        num_testA: Number of testA clips.
        num_testB: Number of testB clips.
        seed: Random seed; the same seed gives byte-identical metadata and the same content.
        num_silent: Extra silent real clips (no audio stream, ``silent_size``, at most 8 s)
            added to the train and val subsets each.
        duration_range: Clip durations in seconds, drawn log-uniformly.
        frame_size: Side of the square talking-face frames (224 like the real dataset).
        silent_size: (height, width) of silent clips.
        write_test_labels: Also write the test subsets' hidden metadata.
        progress: Show a progress bar over the clips (standard error).
        workers: Processes writing originals in parallel (the output does not depend on it).

    Returns:
        The metadata list of each subset.

    Raises:
        ValueError: An odd or too small ``frame_size`` or a duration range outside 2.5-60 s.
    """
    if frame_size % 2 or frame_size < 64:
        raise ValueError(f'photo_avdf.py: frame_size must be even and >= 64, got {frame_size}')
    if not 2.5 <= duration_range[0] <= duration_range[1] <= 60:
        raise ValueError(f'photo_avdf.py: duration_range must lie within 2.5-60 s and be '
                         f'increasing, got {duration_range}')
    os.makedirs(root, exist_ok=True)
    counts = dict(train=num_train, val=num_val, testA=num_testA, testB=num_testB)
    total = sum(counts.values()) + num_silent * len(LABELED_SUBSETS)
    bar = tqdm(total=total, desc='photo clips', unit='clip', file=sys.stderr,
               disable=not progress)
    result = {}
    pool = multiprocessing.get_context('spawn').Pool(workers) if workers > 1 else None
    try:
        for subset in SUBSETS:
            silent = num_silent if subset in LABELED_SUBSETS else 0
            bar.set_postfix_str(subset)
            meta = _generate_subset(root, subset, counts[subset], silent, seed,
                                    duration_range, frame_size, silent_size, pool, bar)
            result[subset] = meta
            _write_metadata(root, subset, meta, write_test_labels)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    bar.close()
    return result


def _write_metadata(root: str, subset: str, meta: List[Dict],
                    write_test_labels: Optional[bool]) -> None:
    """The subset's metadata files in the AV-Deepfake1M++ layout."""
    if subset in LABELED_SUBSETS:
        with open(osp.join(root, f'{subset}_metadata.json'), 'w') as f:
            json.dump(meta, f, indent=1)
        for m in meta:
            with open(osp.join(root, subset, m['file'][:-4] + '.json'), 'w') as f:
                json.dump(m, f)
        return
    with open(osp.join(root, f'{subset}_files.txt'), 'w') as f:
        f.write(''.join(m['file'] + '\n' for m in meta))
    if write_test_labels:
        os.makedirs(osp.join(root, 'hidden_labels'), exist_ok=True)
        with open(osp.join(root, 'hidden_labels', f'{subset}_metadata.json'), 'w') as f:
            json.dump(meta, f, indent=1)
