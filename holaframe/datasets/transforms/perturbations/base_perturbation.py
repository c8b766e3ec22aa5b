"""Shared behaviour of the robustness perturbations: levels, seeding, checks, error messages."""

import zlib
from typing import Any, Dict, Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from ...io import BadSampleError

__all__ = ['BasePerturbation', 'NUM_LEVELS']

#: Severity levels of the protocol: 1 (mildest) .. 5 (strongest); 0 is the identity.
NUM_LEVELS = 5


class BasePerturbation(BaseTransform):
    """A signal degradation with five severity levels, applied after decoding.

    Subclasses set :attr:`name` (the short name the robustness tool uses), :attr:`modality`
    (``'video'``: ``results['imgs']`` (T, H, W, 3) uint8 RGB from ``DecordDecode``;
    ``'audio'``: ``results['waveform']`` (N,) float32 at ``results['audio_sr']`` from
    ``AudioDecode``), :attr:`levels` (the protocol's parameter at levels 1..5) and
    :attr:`parameter` (what that parameter is, for tables and messages), and implement
    :meth:`perturb`. Level 0 returns the sample unchanged (bit-exact); the output always has the
    input's shape and dtype. Frames the sampler decoded more than once (a short clip padded by
    repeating its last frame) are perturbed once, as the protocol perturbs each frame of the
    file once, and stay identical copies.

    **Seeding.** With ``seed=None`` (training) the random draws come from NumPy's global
    generator, which MMEngine seeds per worker and epoch. With an integer ``seed`` (evaluation)
    every clip gets its own generator seeded by ``(seed, clip, perturbation, level)``, the clip
    being ``results['file']`` (else ``filename``, else ``sample_idx``): the same clip gets the
    same perturbation whatever the worker, batch or order it is loaded in.

    A clip whose perturbation fails raises :class:`~holaframe.datasets.io.BadSampleError` naming
    the file, the perturbation and the level; a test dataset with ``skip_bad_samples`` lists it
    in the error report and goes on.

    Args:
        level: Severity, 0 (identity) or 1..5.
        seed: None (global NumPy generator) or an integer (per-clip generator).
    """

    name: str = ''
    modality: str = ''
    levels: Tuple[Any, ...] = ()
    parameter: str = ''

    def __init__(self, level: int = 3, seed: Optional[int] = None) -> None:
        if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or not (
                0 <= int(level) <= NUM_LEVELS):
            raise ValueError(f'{type(self).__name__}: level must be an integer in 0..'
                             f'{NUM_LEVELS} (0 = identity), got {level!r}; the levels are '
                             f'{self.level_table()}')
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int,
                                                                                np.integer))):
            raise ValueError(f'{type(self).__name__}: seed must be None or an integer, got '
                             f'{seed!r}')
        self.level = int(level)
        self.seed = None if seed is None else int(seed)

    @classmethod
    def level_table(cls) -> Dict[int, Any]:
        """``{level: parameter}`` for levels 1..5."""
        return {i + 1: v for i, v in enumerate(cls.levels)}

    @property
    def value(self) -> Any:
        """The protocol parameter at this level (None at level 0)."""
        return self.levels[self.level - 1] if self.level else None

    def rng(self, results: Dict) -> np.random.Generator:
        """The generator of this clip (see the class docstring)."""
        if self.seed is None:
            return np.random.default_rng(np.random.randint(0, 2**31 - 1, size=4))
        clip = results.get('file') or results.get('filename') or results.get('sample_idx', '')
        key = zlib.crc32(str(clip).encode('utf-8', 'surrogateescape'))
        return np.random.default_rng(
            [self.seed, key, zlib.crc32(self.name.encode()), self.level])

    def perturb(self, data: np.ndarray, results: Dict, rng: np.random.Generator) -> np.ndarray:
        """Degrade ``data`` (frames or waveform) at :attr:`value`; same shape and dtype."""
        raise NotImplementedError

    def transform(self, results: Dict) -> Dict:
        """Apply the perturbation to the frames or the waveform of ``results``."""
        if self.level == 0:
            return results
        key = 'imgs' if self.modality == 'video' else 'waveform'
        where = 'DecordDecode' if self.modality == 'video' else 'AudioDecode'
        source = results.get('filename', results.get('sample_idx', '<sample>'))
        if key not in results:
            raise KeyError(f'{source}: {type(self).__name__} needs `{key}`; put it after '
                           f'{where} in the pipeline')
        data = results[key]
        self._check_input(data, source)
        try:
            if self.modality == 'audio':
                out = self._perturb_audio(data, results)
            else:
                out = self._perturb_video(data, results)
        except BadSampleError:
            raise
        except Exception as e:  # any failure of one clip: name it, the dataset records it
            raise BadSampleError(f'{source}: {self.name} level {self.level} ({self.parameter} '
                                 f'{self.value}) failed: {type(e).__name__}: {e}') from e
        if out.shape != data.shape or out.dtype != data.dtype:
            raise BadSampleError(f'{source}: {self.name} level {self.level} changed the '
                                 f'{key} from {data.dtype} {data.shape} to {out.dtype} '
                                 f'{out.shape}')
        results[key] = out
        results.setdefault('perturbations', []).append((self.name, self.level))
        return results

    def _perturb_video(self, frames: np.ndarray, results: Dict) -> np.ndarray:
        """Perturb each distinct decoded frame once (in frame-index order) and repeat the
        result where the sampler repeated the frame (``frame_inds``)."""
        rng = self.rng(results)
        inds = results.get('frame_inds')
        if inds is not None and len(inds) == frames.shape[0]:
            _, first, inverse = np.unique(np.asarray(inds).reshape(-1), return_index=True,
                                          return_inverse=True)
            inverse = inverse.reshape(-1)
            repeats = np.flatnonzero(first[inverse] != np.arange(frames.shape[0]))
            if repeats.size and all(np.array_equal(frames[i], frames[first[inverse[i]]])
                                    for i in repeats):
                return self.perturb(np.ascontiguousarray(frames[first]), results, rng)[inverse]
        return self.perturb(frames, results, rng)

    def _perturb_audio(self, wave: np.ndarray, results: Dict) -> np.ndarray:
        """Perturb the decoded part of the waveform (``audio_window`` when set); a silent
        (all-zero) waveform is left as it is."""
        start, stop = results.get('audio_window') or (0, wave.size)
        stop = min(int(stop), wave.size)
        segment = wave[int(start):stop]
        if segment.size == 0 or not np.any(segment):
            return wave
        out = wave.copy()
        out[int(start):stop] = self.perturb(segment, results, self.rng(results))
        return out

    def _check_input(self, data: Any, source: str) -> None:
        if self.modality == 'video':
            ok = isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 4 \
                and data.shape[-1] == 3
            want = '(T, H, W, 3) uint8 RGB frames'
        else:
            ok = isinstance(data, np.ndarray) and data.dtype == np.float32 and data.ndim == 1
            want = 'a (N,) float32 waveform'
        if not ok:
            got = f'{data.dtype} {data.shape}' if isinstance(data, np.ndarray) else type(data)
            raise ValueError(f'{source}: {type(self).__name__} expects {want}, got {got}')

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(level={self.level}, seed={self.seed}; '
                f'{self.parameter}={self.value})')
