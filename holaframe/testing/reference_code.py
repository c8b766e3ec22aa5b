"""Running the reference implementations (HiCMAE, AVF-MAE++) from a local checkout.

The reference repositories are never copied into holaframe: the fixture generators in
``tools/model_converters`` and ``benchmarks/bench_hicmae_step.py`` import their model files from
a clone. Those files take four helpers from timm (``register_model``, ``drop_path``,
``to_2tuple``, ``trunc_normal_``). The timm they pin (0.4.12) imports torchvision on
``import timm``, which fails where no torchvision matches the installed torch (a CPU-only torch
with the CUDA torchvision wheel, or none at all). :func:`ensure_timm` keeps an importable timm
and otherwise registers small equivalents under timm's module names.
"""

import sys
import types

from torch import nn

__all__ = ['ensure_timm', 'TIMM_STAND_IN']

#: ``timm.__version__`` of the stand-in.
TIMM_STAND_IN = 'stand-in'


def _drop_path(x, drop_prob: float = 0., training: bool = False):
    """Stochastic depth per sample (the identity unless training with ``drop_prob > 0``)."""
    if drop_prob == 0. or not training:
        return x
    keep = 1 - drop_prob
    mask = x.new_empty((x.shape[0], ) + (1, ) * (x.ndim - 1)).bernoulli_(keep)
    return x * mask / keep


def _to_2tuple(x):
    return tuple(x) if isinstance(x, (list, tuple)) else (x, x)


def _register_stand_in() -> None:
    timm = types.ModuleType('timm')
    timm.__version__ = TIMM_STAND_IN
    models = types.ModuleType('timm.models')
    layers = types.ModuleType('timm.models.layers')
    registry = types.ModuleType('timm.models.registry')
    layers.drop_path, layers.to_2tuple = _drop_path, _to_2tuple
    layers.trunc_normal_ = nn.init.trunc_normal_  # same arguments (mean, std, a, b)
    registry.register_model = lambda fn: fn
    timm.models, models.layers, models.registry = models, layers, registry
    sys.modules.update({'timm': timm, 'timm.models': models, 'timm.models.layers': layers,
                        'timm.models.registry': registry})


def ensure_timm() -> str:
    """Make ``timm.models.layers`` and ``timm.models.registry`` importable.

    Returns:
        str: The installed timm's version, or :data:`TIMM_STAND_IN` when it could not be
        imported (then the stand-in modules are registered in ``sys.modules``; they only serve
        registration and initialisation, none of them runs in a forward or backward pass
        without stochastic depth).
    """
    try:
        import timm
        import timm.models.layers  # noqa: F401
        import timm.models.registry  # noqa: F401
        return str(getattr(timm, '__version__', 'unknown'))
    except Exception:  # ImportError, or a torchvision built for another torch (RuntimeError)
        for name in [n for n in sys.modules if n == 'timm' or n.startswith('timm.')]:
            del sys.modules[name]
    _register_stand_in()
    return TIMM_STAND_IN
