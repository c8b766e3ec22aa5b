"""Training-time augmentation: a random protocol perturbation at a random level."""

from typing import Dict, List, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

from .catalog import PERTURBATIONS, check_perturbation_names, parse_levels

__all__ = ['RandomPerturbation']


@TRANSFORMS.register_module()
class RandomPerturbation(BaseTransform):
    """With probability ``prob``, apply one perturbation drawn uniformly from ``perturbations``
    at a level drawn uniformly from ``levels`` (one draw per sample).

    The perturbations are the robustness protocol's transforms (DeeperForensics-1.0's seven
    video distortions and AuViRe's four audio ones, see ``PERTURBATIONS``), so a model trained
    with this augmentation is measured by ``tools/analysis_tools/robustness.py`` on the same
    degradations. The draws come from NumPy's global generator, which MMEngine seeds per worker
    and epoch, so a seeded run is reproducible. ``results['random_perturbation']`` records the
    draw (``name``, ``level``, ``applied``) and ``results['perturbations']`` what was applied.

    **Placement.** A video perturbation belongs right after ``DecordDecode`` (on the whole
    frame, before crops) and an audio one right after ``AudioDecode``. The transform may appear
    at both places: the first copy of a sample draws, and the perturbation is applied by the
    first copy that finds its input (``imgs`` / ``waveform``) decoded, once.
    :class:`WithPerturbation` (or :func:`insert_after_decoding`) places the copies; a single
    copy after both decoders also works (video perturbations then see what the transforms
    between the decoders made of the frames).

    Args:
        prob: Probability that a sample is perturbed at all.
        perturbations: Short names to draw from (default: all eleven).
        levels: Levels to draw from, e.g. ``'1-5'`` or ``[1, 2, 3]``.
        kwargs: Extra arguments per short name, e.g. ``dict(h264=dict(preset='veryfast'))``.
    """

    def __init__(self, prob: float = 0.5, perturbations: Optional[Sequence[str]] = None,
                 levels='1-5', kwargs: Optional[Dict[str, dict]] = None) -> None:
        if not 0.0 <= float(prob) <= 1.0:
            raise ValueError(f'RandomPerturbation: prob must be in [0, 1], got {prob!r}')
        self.prob = float(prob)
        self.perturbations = check_perturbation_names(perturbations)
        self.levels = parse_levels(levels)
        self.kwargs = {k: dict(v) for k, v in (kwargs or {}).items()}
        check_perturbation_names(list(self.kwargs) or None)
        self._transforms = {(name, level): PERTURBATIONS[name](level=level,
                                                               **self.kwargs.get(name, {}))
                            for name in self.perturbations for level in self.levels}

    @property
    def modalities(self) -> List[str]:
        """The modalities of the perturbations drawn from (``video`` first)."""
        kinds = {PERTURBATIONS[n].modality for n in self.perturbations}
        return [m for m in ('video', 'audio') if m in kinds]

    def transform(self, results: Dict) -> Dict:
        """Draw (first copy of the sample) and apply the perturbation once its input exists."""
        draw = results.get('random_perturbation')
        if draw is None:
            draw = dict(name=None, level=None, applied=False)
            if np.random.rand() < self.prob:
                draw['name'] = self.perturbations[np.random.randint(len(self.perturbations))]
                draw['level'] = self.levels[np.random.randint(len(self.levels))]
            results['random_perturbation'] = draw
        if draw['name'] is None or draw['applied']:
            return results
        transform = self._transforms.get((draw['name'], draw['level']))
        if transform is None:
            transform = PERTURBATIONS[draw['name']](level=draw['level'],
                                                    **self.kwargs.get(draw['name'], {}))
        if ('imgs' if transform.modality == 'video' else 'waveform') not in results:
            return results  # the copy after the other decoder applies it
        results = transform(results)
        draw['applied'] = True
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, perturbations={self.perturbations}, '
                f'levels={self.levels})')
