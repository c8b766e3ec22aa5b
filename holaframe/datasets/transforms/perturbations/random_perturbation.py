"""Training-time augmentation: a random protocol perturbation at a random level."""

from typing import Dict, Optional, Sequence

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
    degradations. Put it after both ``DecordDecode`` and ``AudioDecode`` (or wrap the pipeline in
    :class:`WithPerturbation`, which places it there). The draws come from NumPy's global
    generator, which MMEngine seeds per worker and epoch, so a seeded run is reproducible.
    ``results['perturbations']`` lists what was applied.

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

    def transform(self, results: Dict) -> Dict:
        """Maybe perturb the sample."""
        if np.random.rand() >= self.prob:
            return results
        name = self.perturbations[np.random.randint(len(self.perturbations))]
        level = self.levels[np.random.randint(len(self.levels))]
        return self._transforms[(name, level)](results)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, perturbations={self.perturbations}, '
                f'levels={self.levels})')
