"""Noise-excited source-filter speech: glottal pulses and noise through formant resonators.

The second synthetic generator's speech (:mod:`.photo_avdf`, ``docs/generalisation.md``),
independent of :func:`.synthesize_speech` (harmonic tones):

* **Source**: a Rosenberg glottal-flow pulse train, differentiated (lip radiation), with
  per-period jitter and shimmer and aspiration noise gated by the glottal flow; a separate
  white-noise source for fricatives and plosive bursts.
* **Filter**: a cascade of four second-order formant resonators (Klatt's unity-gain form) whose
  frequencies move linearly from phone to phone (coarticulation), updated every 5 ms; fricative
  noise goes through a band-pass resonator of the fricative's place instead.
* **Phones**: seven vowels, nasals (low murmur), voiced and unvoiced fricatives, plosives
  (closure, burst, aspiration) and approximants; words are (C)V(C) syllables, utterances are
  words separated by pauses of 0.08-0.5 s, with a falling pitch declination and accented words.
* **Speaker**: mean pitch, vocal-tract length (one scale on every formant), open quotient,
  breathiness, jitter, shimmer, spectral tilt and speaking rate, drawn per speaker.
* **Mouth**: every phone has an openness target (open vowels wide, bilabials closed); the
  per-sample openness track, smoothed like an articulator, drives the photo renderer's mouth.
"""

from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Tuple

import numpy as np
from scipy.signal import lfilter

__all__ = ['Speaker', 'random_speaker', 'synthesize_word', 'synthesize_utterance',
           'SAMPLE_RATE']

SAMPLE_RATE = 16000
_BLOCK = 80  # 5 ms: formant update interval

# name: (F1, F2, F3, F4 in Hz for a vocal-tract scale of 1, mouth openness 0..1)
_VOWELS: Dict[str, Tuple[float, float, float, float, float]] = {
    'a': (730, 1090, 2440, 3400, 1.0), 'ae': (660, 1720, 2410, 3400, 0.85),
    'e': (530, 1840, 2480, 3500, 0.6), 'i': (270, 2290, 3010, 3700, 0.25),
    'o': (570, 840, 2410, 3300, 0.7), 'u': (300, 870, 2240, 3300, 0.3),
    'er': (490, 1350, 1690, 3300, 0.45),
}
# name: (kind, voiced, noise centre Hz, noise bandwidth Hz, formants (F1..F4), openness)
_CONSONANTS: Dict[str, Tuple] = {
    's': ('fric', False, 5200, 1800, (400, 1600, 2600, 3500), 0.2),
    'sh': ('fric', False, 3000, 1200, (400, 1800, 2500, 3500), 0.25),
    'f': ('fric', False, 4500, 4000, (400, 1100, 2400, 3400), 0.08),
    'h': ('asp', False, 1500, 2500, None, 0.5),
    'z': ('fric', True, 5200, 1800, (300, 1600, 2600, 3500), 0.2),
    'v': ('fric', True, 4000, 4000, (300, 1100, 2400, 3400), 0.08),
    'p': ('stop', False, 1200, 2500, (400, 900, 2300, 3300), 0.0),
    't': ('stop', False, 4000, 3000, (400, 1700, 2600, 3500), 0.15),
    'k': ('stop', False, 2200, 1500, (400, 1800, 2300, 3400), 0.2),
    'b': ('stop', True, 1200, 2500, (300, 900, 2300, 3300), 0.0),
    'd': ('stop', True, 4000, 3000, (300, 1700, 2600, 3500), 0.15),
    'g': ('stop', True, 2200, 1500, (300, 1800, 2300, 3400), 0.2),
    'm': ('nasal', True, 0, 0, (250, 1000, 2200, 3300), 0.0),
    'n': ('nasal', True, 0, 0, (250, 1400, 2300, 3300), 0.12),
    'l': ('approx', True, 0, 0, (360, 1300, 2700, 3500), 0.35),
    'r': ('approx', True, 0, 0, (420, 1300, 1600, 3300), 0.3),
    'w': ('approx', True, 0, 0, (300, 700, 2200, 3300), 0.15),
    'y': ('approx', True, 0, 0, (280, 2200, 2900, 3600), 0.25),
}
_ONSETS = ['s', 'sh', 'f', 'h', 'z', 'v', 'p', 't', 'k', 'b', 'd', 'g', 'm', 'n', 'l', 'r',
           'w', 'y']
_CODAS = ['s', 'z', 't', 'k', 'd', 'm', 'n', 'l', 'r', 'f']
_BANDWIDTHS = np.array([80.0, 110.0, 170.0, 250.0])


@dataclass(frozen=True)
class Speaker:
    """Voice parameters of one synthetic speaker.

    Args:
        f0: Mean pitch in Hz.
        vtl: Vocal-tract scale multiplying every formant (shorter tract -> larger).
        open_quotient: Fraction of a glottal period with the glottis open.
        breathiness: Aspiration noise relative to the voiced source.
        jitter: Relative per-period pitch perturbation.
        shimmer: Relative per-period amplitude perturbation.
        tilt: One-pole low-pass coefficient on the source (spectral tilt), 0..0.9.
        rate: Speaking-rate factor (phone durations are divided by it).
        pitch_range: Relative depth of the pitch accents and declination.
    """

    f0: float
    vtl: float
    open_quotient: float
    breathiness: float
    jitter: float
    shimmer: float
    tilt: float
    rate: float
    pitch_range: float


def random_speaker(rng: np.random.Generator) -> Speaker:
    """Draw a speaker: pitch 85-255 Hz, the vocal-tract scale loosely following the pitch."""
    f0 = float(np.exp(rng.uniform(np.log(85), np.log(255))))
    vtl = float(np.clip(0.88 + 0.28 * (np.log(f0) - np.log(85)) / np.log(3)
                        + rng.normal(0, 0.04), 0.85, 1.22))
    return Speaker(f0=f0, vtl=vtl, open_quotient=float(rng.uniform(0.45, 0.7)),
                   breathiness=float(rng.uniform(0.02, 0.15)),
                   jitter=float(rng.uniform(0.004, 0.02)), shimmer=float(rng.uniform(0.02, 0.08)),
                   tilt=float(rng.uniform(0.0, 0.6)), rate=float(rng.uniform(0.85, 1.2)),
                   pitch_range=float(rng.uniform(0.08, 0.25)))


def _random_phones(rng: np.random.Generator, rate: float) -> List[Tuple[str, float]]:
    """Phones of a word of 1-3 (C)V(C) syllables with natural durations in seconds."""
    phones = []
    vowels = list(_VOWELS)
    for _ in range(int(rng.choice([1, 1, 2, 2, 2, 3]))):
        if rng.random() < 0.8:
            phones.append((str(rng.choice(_ONSETS)), rng.uniform(0.04, 0.1)))
        phones.append((str(rng.choice(vowels)), rng.uniform(0.07, 0.18)))
        if rng.random() < 0.35:
            phones.append((str(rng.choice(_CODAS)), rng.uniform(0.04, 0.09)))
    return [(p, d / rate) for p, d in phones]


def _phone_targets(phone: str, vtl: float) -> Tuple[np.ndarray, float]:
    """Formant targets (4,) and openness of a phone."""
    if phone in _VOWELS:
        f = np.array(_VOWELS[phone][:4], np.float64)
        return f * vtl, _VOWELS[phone][4]
    kind, _, _, _, formants, openness = _CONSONANTS[phone]
    if formants is None:  # /h/ takes the next vowel's formants (filled in by the caller)
        return None, openness
    return np.array(formants, np.float64) * vtl, openness


def _glottal_source(rng: np.random.Generator, f0_track: np.ndarray, sp: Speaker
                    ) -> Tuple[np.ndarray, np.ndarray]:
    """Differentiated Rosenberg pulses following ``f0_track`` (per sample); also the flow."""
    n = len(f0_track)
    # per-period jitter: a piecewise-constant perturbation, redrawn about every 10 ms
    steps = max(n // 160 + 2, 2)
    jit = np.repeat(rng.normal(0, sp.jitter, steps), 160)[:n]
    shim = np.repeat(rng.normal(0, sp.shimmer, steps), 160)[:n]
    phase = np.cumsum(f0_track * (1 + jit) / SAMPLE_RATE) % 1.0
    tp, tn = 0.65 * sp.open_quotient, 0.35 * sp.open_quotient
    flow = np.where(phase < tp, 0.5 * (1 - np.cos(np.pi * phase / tp)),
                    np.where(phase < tp + tn, np.cos(0.5 * np.pi * (phase - tp) / tn), 0.0))
    flow = flow * (1 + shim)
    src = np.diff(flow, prepend=flow[0]) * (SAMPLE_RATE / (f0_track + 1e-6)) * 0.05
    if sp.tilt > 0:
        src = lfilter([1 - sp.tilt], [1, -sp.tilt], src)
    return src, flow


def _formant_filter(x: np.ndarray, tracks: np.ndarray) -> np.ndarray:
    """Cascade of 4 unity-DC-gain resonators with per-block coefficients from ``tracks``.

    Args:
        x: Excitation (n,).
        tracks: Formant frequencies per block ``(num_blocks, 4)``.
    """
    y = x.copy()
    nb = tracks.shape[0]
    for k in range(4):
        r = np.exp(-np.pi * _BANDWIDTHS[k] / SAMPLE_RATE)
        c = -r * r
        zi = np.zeros(2)
        out = np.empty_like(y)
        for b in range(nb):
            s, e = b * _BLOCK, min((b + 1) * _BLOCK, len(y))
            if s >= e:
                break
            bcoef = 2 * r * np.cos(2 * np.pi * min(tracks[b, k], 7600.0) / SAMPLE_RATE)
            a = 1 - bcoef - c  # Klatt: unity gain at DC
            out[s:e], zi = lfilter([a], [1, -bcoef, -c], y[s:e], zi=zi)
        y = out
    return y


def _bandpass_noise(rng: np.random.Generator, n: int, centre: float, bw: float) -> np.ndarray:
    """White noise through one resonator at ``centre`` Hz, normalised to unit RMS."""
    noise = rng.standard_normal(n)
    r = np.exp(-np.pi * bw / SAMPLE_RATE)
    out = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * centre / SAMPLE_RATE), r * r], noise)
    return out / (np.sqrt((out ** 2).mean()) + 1e-9)


def synthesize_word(rng: np.random.Generator, sp: Speaker, target: Optional[float] = None,
                    f0_scale: float = 1.0, monotone: bool = False
                    ) -> Tuple[np.ndarray, np.ndarray]:
    """One word of 1-3 syllables in the voice ``sp``.

    Args:
        rng: Random generator.
        sp: Speaker.
        target: Exact length in seconds (phone durations scaled to it); None: natural length.
        f0_scale: Pitch of this word relative to the speaker's mean (accent, declination).
        monotone: A flat pitch contour (no accent movement; the TTS voice of the fakes).

    Returns:
        The waveform (peak about 1) and the per-sample mouth openness in [0, 1].
    """
    phones = _random_phones(rng, sp.rate)
    if target is not None:
        total = sum(d for _, d in phones)
        phones = [(p, d * target / total) for p, d in phones]
    lens = [max(int(round(d * SAMPLE_RATE)), 8) for _, d in phones]
    if target is not None:
        lens[-1] += int(round(target * SAMPLE_RATE)) - sum(lens)
        lens[-1] = max(lens[-1], 8)
    n = sum(lens)
    nb = -(-n // _BLOCK)
    # formant and openness targets at each phone's centre, linear transitions in between
    centres, ftargets, otargets = [], [], []
    pos = 0
    for i, ((p, _), ln) in enumerate(zip(phones, lens)):
        f, o = _phone_targets(p, sp.vtl)
        if f is None:
            nxt = next((q for q, _ in phones[i + 1:] if q in _VOWELS), 'a')
            f = _phone_targets(nxt, sp.vtl)[0]
        centres.append(pos + ln / 2)
        ftargets.append(f)
        otargets.append(o)
        pos += ln
    centres = np.array(centres)
    ftargets = np.array(ftargets)
    bt = (np.arange(nb) + 0.5) * _BLOCK
    tracks = np.stack([np.interp(bt, centres, ftargets[:, k]) for k in range(4)], 1)
    t = np.arange(n)
    openness = np.interp(t, centres, otargets)
    # pitch: a rise-fall accent over the word (or flat), per-sample
    if monotone:
        f0_track = np.full(n, sp.f0 * f0_scale)
    else:
        u = t / max(n - 1, 1)
        peak = rng.uniform(0.2, 0.6)
        accent = np.exp(-((u - peak) / 0.3) ** 2) - 0.3 * u
        f0_track = sp.f0 * f0_scale * (1 + sp.pitch_range * accent)
    src, flow = _glottal_source(rng, f0_track, sp)
    voiced_gain = np.zeros(n)
    noise_part = np.zeros(n)
    pos = 0
    for (p, _), ln in zip(phones, lens):
        sl = slice(pos, pos + ln)
        if p in _VOWELS:
            voiced_gain[sl] = 1.0
        else:
            kind, voiced, fc, bw, _, _ = _CONSONANTS[p]
            if kind == 'nasal':
                voiced_gain[sl] = 0.3
            elif kind == 'approx':
                voiced_gain[sl] = 0.6
            elif kind == 'fric':
                voiced_gain[sl] = 0.25 if voiced else 0.0
                noise_part[sl] = 0.22 * _bandpass_noise(rng, ln, fc, bw) * \
                    np.hanning(ln + 2)[1:-1] ** 0.5
            elif kind == 'asp':
                noise_part[sl] = 0.12 * rng.standard_normal(ln)
            elif kind == 'stop':  # closure (voice bar if voiced), burst, aspiration
                closure = int(ln * 0.6)
                voiced_gain[pos:pos + closure] = 0.08 if voiced else 0.0
                nburst = ln - closure
                burst = _bandpass_noise(rng, nburst, fc, bw) * np.exp(
                    -np.arange(nburst) / (0.3 * nburst + 1))
                noise_part[pos + closure:pos + ln] = 0.5 * burst
        pos += ln
    # smooth gains (10 ms) so phone boundaries do not click
    kern = np.hanning(161)
    kern /= kern.sum()
    voiced_gain = np.convolve(voiced_gain, kern, mode='same')
    aspir = sp.breathiness * rng.standard_normal(n) * (0.3 + flow)
    excitation = (src + aspir) * voiced_gain
    voiced = _formant_filter(excitation, tracks)
    # 'h' and stops: noise shaped by the vocal tract too
    tract_noise = _formant_filter(noise_part * (np.abs(noise_part) > 0), tracks) * 0.5
    wave = voiced + 0.6 * noise_part + tract_noise
    ramp = min(80, n // 4)
    if ramp > 1:
        wave[:ramp] *= np.linspace(0, 1, ramp)
        wave[-ramp:] *= np.linspace(1, 0, ramp)
    wave /= np.abs(wave).max() + 1e-9
    return wave, np.clip(openness * (0.35 + 0.65 * voiced_gain), 0, 1)


def synthesize_utterance(rng: np.random.Generator, duration: float, sp: Speaker
                         ) -> Tuple[np.ndarray, np.ndarray, List[Tuple[int, int]]]:
    """Words separated by pauses for exactly ``duration`` seconds.

    Args:
        rng: Random generator.
        duration: Length in seconds.
        sp: Speaker.

    Returns:
        The dry waveform at 16 kHz (peak about 1), the per-sample mouth openness and the word
        spans as ``(start, end)`` sample indices.
    """
    n = int(round(duration * SAMPLE_RATE))
    wave, openness = np.zeros(n), np.zeros(n)
    words = []
    pos = int(rng.uniform(0.05, 0.4) * SAMPLE_RATE)  # leading silence
    end_margin = int(0.05 * SAMPLE_RATE)
    while True:
        decl = 1.0 - 0.12 * sp.pitch_range * pos / max(n, 1)
        w, o = synthesize_word(rng, sp, f0_scale=decl * rng.uniform(0.95, 1.06))
        if pos + len(w) > n - end_margin:
            break
        amp = rng.uniform(0.5, 1.0)
        wave[pos:pos + len(w)] = amp * w
        openness[pos:pos + len(w)] = o * (0.6 + 0.4 * amp)
        words.append((pos, pos + len(w)))
        pause = rng.uniform(0.5, 0.9) if rng.random() < 0.12 else rng.uniform(0.08, 0.3)
        pos += len(w) + int(pause * SAMPLE_RATE)
    return wave, openness, words


def tts_voice(rng: np.random.Generator, sp: Speaker) -> Speaker:
    """The voice-cloning TTS's imitation of ``sp``: close but not equal, cleaner and flatter.

    Pitch within 6%, formants within 5%, no jitter, little shimmer and breathiness, another
    glottal pulse shape and spectral tilt.
    """
    return replace(sp, f0=sp.f0 * float(rng.uniform(0.94, 1.06)),
                   vtl=sp.vtl * float(rng.uniform(0.95, 1.05)),
                   open_quotient=float(rng.uniform(0.5, 0.65)), breathiness=0.01,
                   jitter=0.0, shimmer=0.005, tilt=float(rng.uniform(0.0, 0.3)),
                   pitch_range=sp.pitch_range * 0.3)
