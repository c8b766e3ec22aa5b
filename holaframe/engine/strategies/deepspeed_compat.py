"""Compatibility of MMEngine 0.10.7's DeepSpeed strategy with current DeepSpeed releases.

Two problems are fixed here, both only when needed and without touching installed files. Nothing
is patched when this module (or holaframe) is imported: ``HolaDeepSpeedStrategy.__init__`` calls
:func:`patch_mmengine_deepspeed`, which applies the fixes once per process, so only runs that use
the strategy are affected.

1. ``mmengine._strategy.deepspeed.register_deepspeed_optimizers`` imports
   ``deepspeed.runtime.fp16.onebit`` (``OnebitAdam``, ``OnebitLamb``, ``ZeroOneAdam``), a module
   that DeepSpeed 0.19 no longer ships, so ``DeepSpeedStrategy()`` raises ``ImportError``.
   :func:`install_onebit_shim` puts a small module of that name into :data:`sys.modules` *only if*
   the real one cannot be imported. Its three classes raise a clear error when instantiated, so a
   config that asks for a 1-bit optimizer fails with an explanation instead of at import time.
2. The same function registers DeepSpeed's optimizers into MMEngine's ``OPTIMIZERS`` registry on
   every strategy construction and raises ``KeyError`` (already registered) the second time.
   :func:`make_optimizer_registration_idempotent` wraps it so that a second strategy in the same
   process (tests, notebooks) works.

:func:`skip_cpu_shm_comm_build` avoids a C++ build that CPU training does not need and
:func:`lazy_muon_support_check` an import of ``torch._inductor`` that non-Muon training does not
need.
"""

import contextlib
import importlib
import sys
import types
from typing import Callable, Iterator, List

ONEBIT_MODULE = 'deepspeed.runtime.fp16.onebit'
ONEBIT_NAMES = ('OnebitAdam', 'OnebitLamb', 'ZeroOneAdam')


def _removed_optimizer(name: str) -> type:
    """A class named ``name`` that raises ``RuntimeError`` explaining the removal when built.

    Args:
        name (str): Name of the removed DeepSpeed optimizer.
    """

    def __init__(self, *args, **kwargs):
        import deepspeed
        raise RuntimeError(
            f'{name} (module {ONEBIT_MODULE}) does not exist in the installed DeepSpeed '
            f'{deepspeed.__version__}; holaframe only provides a placeholder so that MMEngine\'s '
            'DeepSpeedStrategy can start (holaframe/engine/strategies/deepspeed_compat.py). Use '
            'AdamW or another optimizer in `optim_wrapper.optimizer`.')

    return type(name, (), {'__init__': __init__, '__doc__': f'Placeholder for removed {name}.'})


def install_onebit_shim() -> bool:
    """Provide ``deepspeed.runtime.fp16.onebit`` if the installed DeepSpeed lacks it.

    Returns:
        bool: True if the shim module was inserted, False if the real module exists (or a shim
        was inserted before).
    """
    if ONEBIT_MODULE in sys.modules:
        return False
    try:
        importlib.import_module(ONEBIT_MODULE)
        return False
    except ImportError:
        pass
    module = types.ModuleType(ONEBIT_MODULE)
    module.__doc__ = ('holaframe shim: DeepSpeed no longer ships 1-bit optimizers; see '
                      'holaframe/engine/strategies/deepspeed_compat.py.')
    module.__holaframe_shim__ = True
    for name in ONEBIT_NAMES:
        setattr(module, name, _removed_optimizer(name))
    sys.modules[ONEBIT_MODULE] = module
    return True


def make_optimizer_registration_idempotent() -> None:
    """Let MMEngine register DeepSpeed's optimizers more than once per process."""
    from mmengine._strategy import deepspeed as mm_ds
    from mmengine.registry import OPTIMIZERS

    original: Callable[[], List[str]] = mm_ds.register_deepspeed_optimizers
    if getattr(original, '__holaframe_idempotent__', False):
        return

    def register_once() -> List[str]:
        names = ['DeepSpeedCPUAdam', 'FusedAdam', 'FusedLamb', *ONEBIT_NAMES]
        if all(name in OPTIMIZERS.module_dict for name in names):
            return names
        return original()

    register_once.__holaframe_idempotent__ = True  # type: ignore[attr-defined]
    mm_ds.register_deepspeed_optimizers = register_once


_PATCHED = False


def patch_mmengine_deepspeed() -> bool:
    """Apply both fixes once per process (later calls do nothing).

    Returns:
        bool: True when this call applied them, False when they were already applied.
    """
    global _PATCHED
    if _PATCHED:
        return False
    install_onebit_shim()
    make_optimizer_registration_idempotent()
    _PATCHED = True
    return True


@contextlib.contextmanager
def skip_cpu_shm_comm_build() -> Iterator[None]:
    """Keep DeepSpeed from JIT-compiling its CPU shared-memory all-reduce op while in the block.

    On a CPU accelerator ``deepspeed.comm.torch.TorchBackend`` compiles
    ``deepspeed_shm_comm_op`` (a C++ extension; about a minute on 2 cores and a compiler needed)
    when the process group starts. The op only serves ``inference_all_reduce`` (tensor-parallel
    inference); training collectives go through ``torch.distributed`` either way, and
    ``inference_all_reduce`` itself falls back to ``torch.distributed.all_reduce`` without it.
    """
    ds_comm_torch = importlib.import_module('deepspeed.comm.torch')

    original = ds_comm_torch.build_shm_op
    ds_comm_torch.build_shm_op = lambda: None
    try:
        yield
    finally:
        ds_comm_torch.build_shm_op = original


@contextlib.contextmanager
def lazy_muon_support_check() -> Iterator[None]:
    """Skip DeepSpeed's Muon import while checking a non-Muon optimizer for ZeRO support.

    ``deepspeed.runtime.engine`` asks ``is_zero_supported_optimizer``, which imports
    ``deepspeed.runtime.zero.muon.muon_optimizer`` every time; that module wraps functions in
    ``torch.compile`` at import and so imports ``torch._inductor`` (about 6 s per process on 2 CPU
    cores). Inside this block an optimizer whose class is not a Muon variant is checked against
    ``ZERO_SUPPORTED_OPTIMIZERS`` directly, which is what the original check returns for it.
    """
    engine = importlib.import_module('deepspeed.runtime.engine')
    zero_utils = importlib.import_module('deepspeed.runtime.zero.utils')
    original = engine.is_zero_supported_optimizer

    def check(optimizer) -> bool:
        if 'muon' in type(optimizer).__name__.lower():
            return original(optimizer)
        return type(optimizer) in zero_utils.ZERO_SUPPORTED_OPTIMIZERS

    engine.is_zero_supported_optimizer = check
    try:
        yield
    finally:
        engine.is_zero_supported_optimizer = original
