"""Config loading and runner construction shared by ``tools/train.py`` and ``tools/test.py``."""

import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config

from holaframe.utils.pretrained import bind_checkpoint_variables
from holaframe.utils.setup_env import register_all_modules

from .dist_env import default_dist_backend, init_dist_env


def load_config(path: str,
                cfg_options: Optional[dict] = None,
                launcher: str = 'none',
                work_dir: Optional[str] = None) -> Config:
    """Load a config and apply the command-line conventions of OpenMMLab tools.

    Args:
        path (str): Config file.
        cfg_options (dict, optional): ``--cfg-options`` overrides.
        launcher (str): ``none``, ``pytorch``, ``slurm`` or ``mpi``.
        work_dir (str, optional): ``--work-dir``; defaults to ``work_dirs/<config name>``.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'Config file not found: {path}')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    # `pretrained=...` (also from --cfg-options) reaches every init_cfg that names it.
    bind_checkpoint_variables(cfg)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])

    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    if not dist_cfg.get('backend'):
        dist_cfg['backend'] = default_dist_backend()
    cfg.setdefault('default_scope', 'holaframe')
    return cfg


def cpu_ddp_wrapper_cfg(cfg: Config) -> dict:
    """The DDP wrapper config of a plain ``Runner`` started by a launcher on a CPU-only machine.

    MMEngine's default wrapper passes ``device_ids=[LOCAL_RANK]``, which PyTorch's
    ``DistributedDataParallel`` rejects for a module on the CPU. A config without
    ``model_wrapper_cfg`` gets MMEngine's default wrapper with ``device_ids=None``; a DDP
    ``model_wrapper_cfg`` without ``device_ids`` gets ``device_ids=None``; any other wrapper
    config is returned unchanged.

    Args:
        cfg (Config): The experiment config.
    """
    wrapper = cfg.get('model_wrapper_cfg')
    if wrapper is None:
        return dict(type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False,
                    find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper = dict(wrapper)
    if wrapper.get('type', 'MMDistributedDataParallel') in ('MMDistributedDataParallel',
                                                            'DistributedDataParallel'):
        wrapper.setdefault('device_ids', None)
    return wrapper


def add_reliability_hooks(cfg: Config) -> None:
    """What every holaframe run gets: ``TrainStateHook`` (exact resumption, plain-data
    checkpoints) and atomic checkpoint files (``CheckpointHook`` writes through
    :class:`holaframe.utils.atomic_io.AtomicLocalBackend`).

    Args:
        cfg (Config): The experiment config (changed in place).
    """
    from holaframe.utils.atomic_io import ATOMIC_BACKEND, install_atomic_backend
    install_atomic_backend()
    custom = list(cfg.get('custom_hooks') or [])
    names = {h.get('type') if isinstance(h, dict) else type(h).__name__ for h in custom}
    default_hooks = cfg.get('default_hooks') or {}
    names |= {h.get('type') for h in default_hooks.values() if isinstance(h, dict)}
    if not names & {'TrainStateHook', 'holaframe.TrainStateHook'}:
        custom.append(dict(type='holaframe.TrainStateHook'))
        cfg.custom_hooks = custom
    ckpt = default_hooks.get('checkpoint') if isinstance(default_hooks, dict) else None
    if (isinstance(ckpt, dict) and ckpt.get('backend_args') is None
            and ckpt.get('file_client_args') is None
            and '://' not in str(ckpt.get('out_dir') or '')):
        ckpt['backend_args'] = dict(backend=ATOMIC_BACKEND)


def check_strategy_requirements(cfg: Config) -> None:
    """Fail before anything is built when the config's strategy needs a missing package.

    Args:
        cfg (Config): The experiment config.

    Raises:
        ImportError: A DeepSpeed strategy without DeepSpeed installed (names the command).
    """
    strategy = cfg.get('strategy')
    kind = strategy.get('type') if isinstance(strategy, dict) else strategy
    name = kind if isinstance(kind, str) else getattr(kind, '__name__', '')
    if 'DeepSpeed' in (name or ''):
        import importlib.util
        try:
            found = importlib.util.find_spec('deepspeed') is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            from holaframe.engine.strategies.hola_deep_speed_strategy import DEEPSPEED_INSTALL
            raise ImportError(
                f'{cfg.get("filename") or "the config"} trains with {name}, but DeepSpeed is '
                f'not installed: `{DEEPSPEED_INSTALL}` (a holaframe requirement on Linux; it '
                'installs without a GPU).')


def build_runner(cfg: Config):
    """Build ``Runner`` or the runner named by ``cfg.runner_type`` (``FlexibleRunner`` becomes
    :class:`HolaFlexibleRunner`), with :func:`add_reliability_hooks` applied."""
    check_strategy_requirements(cfg)
    register_all_modules(init_default_scope=False)
    add_reliability_hooks(cfg)
    runner_type = cfg.get('runner_type', 'Runner')
    if runner_type == 'Runner':
        from mmengine.runner import Runner
        if cfg.get('launcher', 'none') != 'none':
            # MMEngine's own init_dist calls torch.cuda.set_device even on CPU-only builds; a
            # process group started here first makes the Runner skip it.
            dist_cfg = dict(cfg.env_cfg.get('dist_cfg', {}))
            init_dist_env(cfg.launcher, dist_cfg.pop('backend', None), **dist_cfg)
            if not torch.cuda.is_available():
                cfg.model_wrapper_cfg = cpu_ddp_wrapper_cfg(cfg)
        return Runner.from_cfg(cfg)
    if runner_type in ('FlexibleRunner', 'HolaFlexibleRunner'):
        from .hola_flexible_runner import HolaFlexibleRunner
        return HolaFlexibleRunner.from_cfg(cfg)
    from holaframe.registry import RUNNERS
    return RUNNERS.build(cfg)
