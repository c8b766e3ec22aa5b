"""DeepSpeed ZeRO training through MMEngine's ``FlexibleRunner``, on CPU (gloo) and GPU (NCCL)."""

import copy
import datetime
import os
import os.path as osp
import re
import shutil
import socket
import time
import warnings
from typing import Callable, List, Optional, Union

import torch
import torch.nn as nn
from mmengine._strategy.deepspeed import DeepSpeedStrategy
from mmengine.logging import print_log
from mmengine.optim import BaseOptimWrapper

from holaframe.engine.runner.dist_env import default_dist_backend, prepare_launcher_env
from holaframe.registry import STRATEGIES
from holaframe.utils.atomic_io import atomic_replace_dir, atomic_torch_save
from holaframe.utils.checkpoint import UnsafeCheckpointError, is_url, load_checkpoint, to_plain

from .deepspeed_compat import (
    lazy_muon_support_check,
    patch_mmengine_deepspeed,
    skip_cpu_shm_comm_build,
)
from .hola_deep_speed_engine_wrapper import HolaDeepSpeedEngineWrapper

try:
    import deepspeed
except ImportError:  # checked by HolaDeepSpeedStrategy.__init__ with an install hint
    deepspeed = None

#: What to run when DeepSpeed is missing (a core requirement on Linux, see setup.cfg).
DEEPSPEED_INSTALL = 'pip install deepspeed==0.19.8'

#: ``optim_wrapper`` types that are converted to ``DeepSpeedOptimWrapper``.
_CONVERTIBLE_OPTIM_WRAPPERS = ('OptimWrapper', 'DeepSpeedOptimWrapper')


def deepspeed_checkpoint_globals() -> List[type]:
    """The DeepSpeed classes that its own checkpoint folders pickle (loss scaler, ZeRO stage,
    parameter fragment addresses): data holders, allowed when holaframe reads such a folder."""
    found: List[type] = []
    for module, names in (('deepspeed.runtime.fp16.loss_scaler', ('LossScaler',
                                                                  'DynamicLossScaler')),
                          ('deepspeed.runtime.zero.config', ('ZeroStageEnum', )),
                          ('deepspeed.utils.tensor_fragment', ('fragment_address', ))):
        try:
            mod = __import__(module, fromlist=list(names))
        except ImportError:  # pragma: no cover - other DeepSpeed releases
            continue
        found.extend(getattr(mod, n) for n in names if hasattr(mod, n))
    return found


def _safe_deepspeed_load(path: str, map_location=None):
    """DeepSpeed's checkpoint-engine ``load`` through holaframe's weights-only loader."""
    return load_checkpoint(path, map_location=map_location,
                           extra_safe_globals=deepspeed_checkpoint_globals())


def _free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@STRATEGIES.register_module()
class HolaDeepSpeedStrategy(DeepSpeedStrategy):
    """MMEngine's DeepSpeed strategy made to run anywhere holaframe runs.

    Differences to :class:`mmengine._strategy.DeepSpeedStrategy` (MMEngine 0.10.7):

    - Starts the process group with NCCL when CUDA is available and with gloo otherwise; no
      ``torch.cuda`` call happens on a machine without CUDA. Launchers ``pytorch`` (torchrun),
      ``slurm`` and ``mpi``; with launcher ``none`` a one-process group is created so that
      ``tools/test.py`` works on a single CPU process.
    - Works with DeepSpeed releases without ``deepspeed.runtime.fp16.onebit``
      (see :mod:`holaframe.engine.strategies.deepspeed_compat`).
    - ``train_micro_batch_size_per_gpu`` is taken from the train dataloader's batch size
      (``FlexibleRunner`` only does that for the class named ``DeepSpeedStrategy``).
    - ``zero_stage`` selects ZeRO stage 0-3 without writing a ``zero_optimization`` dict.
    - fp16 / bf16 are enabled only where the hardware supports them; otherwise training falls back
      to fp32 with a warning. Only floating-point inputs are cast to the half dtype.
    - A plain ``OptimWrapper`` config becomes ``DeepSpeedOptimWrapper``: ``clip_grad.max_norm``
      becomes ``gradient_clipping`` and ``accumulative_counts`` becomes
      ``gradient_accumulation_steps``, so experiment configs need no change to switch strategy.
    - ``load_from`` / ``tools/test.py`` accept a plain holaframe checkpoint file (e.g. one made by
      ``tools/model_converters/zero2holaframe.py``) as well as a DeepSpeed checkpoint directory.
    - Logged losses are averaged over ranks (``reduce_log_vars``), i.e. they are the loss of the
      global batch, as with one process.

    Args:
        zero_stage (int, optional): ZeRO stage 0, 1, 2 or 3; sets
            ``zero_optimization.stage``. Defaults to None (keep ``zero_optimization``).
        zero_optimization (dict, optional): DeepSpeed ``zero_optimization`` section.
        gradient_clipping (float, optional): Max global L2 norm of the gradients.
        fp16 (dict, optional): DeepSpeed ``fp16`` section, e.g. ``dict(enabled=True)``.
        bf16 (dict, optional): DeepSpeed ``bf16`` section, e.g. ``dict(enabled=True)``.
        inputs_to_half (list[int | str], optional): Inputs cast to the half dtype; defaults to
            ``['inputs']`` when fp16 or bf16 is enabled.
        gradient_accumulation_steps (int, optional): Micro-steps per optimizer step.
        reduce_log_vars (bool): Average the logged losses over ranks. Defaults to True.
        broadcast_buffers (bool): Copy rank 0's buffers (BatchNorm statistics) to all ranks
            after each training step (DDP does it before the forward). Defaults to True.
        sync_bn (str, optional): ``'torch'`` converts BatchNorm layers to
            ``torch.nn.SyncBatchNorm`` (statistics over the global batch). PyTorch implements
            it for GPUs only: on CPU it is skipped with a warning. Defaults to None.
        **kwargs: Other arguments of ``DeepSpeedStrategy`` (``config``, ``amp``,
            ``activation_checkpointing``, ``aio``, ``train_micro_batch_size_per_gpu``,
            ``steps_per_print``, ``exclude_frozen_parameters``) and of ``BaseStrategy``.
    """

    def __init__(self,
                 *,
                 zero_stage: Optional[int] = None,
                 zero_optimization: Optional[dict] = None,
                 gradient_clipping: Optional[float] = None,
                 fp16: Optional[dict] = None,
                 bf16: Optional[dict] = None,
                 inputs_to_half: Optional[List[Union[int, str]]] = None,
                 gradient_accumulation_steps: Optional[int] = None,
                 reduce_log_vars: bool = True,
                 broadcast_buffers: bool = True,
                 sync_bn: Optional[str] = None,
                 **kwargs) -> None:
        if deepspeed is None:
            raise ImportError(
                'HolaDeepSpeedStrategy: DeepSpeed is not installed, and this config trains with '
                f'a ZeRO strategy. Install it with `{DEEPSPEED_INSTALL}` (holaframe requires it '
                'on Linux; it installs without a GPU and trains on CPU too).')
        if sync_bn not in (None, 'torch'):
            raise ValueError(f'HolaDeepSpeedStrategy: sync_bn must be None or "torch", got '
                             f'{sync_bn!r}')
        if zero_stage is not None:
            if zero_stage not in (0, 1, 2, 3):
                raise ValueError(f'HolaDeepSpeedStrategy: zero_stage must be 0, 1, 2 or 3, '
                                 f'got {zero_stage!r}')
            zero_optimization = dict(zero_optimization or {}, stage=zero_stage)
        elif zero_optimization is not None and zero_optimization.get('stage', 0) not in (0, 1,
                                                                                         2, 3):
            raise ValueError('HolaDeepSpeedStrategy: zero_optimization.stage must be 0, 1, 2 or '
                             f'3, got {zero_optimization.get("stage")!r}')
        if zero_optimization is not None and zero_optimization.get('stage') == 3:
            # DeepSpeed's ZeRO-3 "memory efficient linear" replaces torch.nn.functional.linear
            # for the whole process and never restores it, which silently breaks code that
            # runs later in the same process (e.g. fvcore FLOP counting sees no linear layers).
            # Off unless a config asks for it.
            zero_optimization = dict(zero_optimization)
            zero_optimization.setdefault('memory_efficient_linear', False)
        if gradient_accumulation_steps is not None and gradient_accumulation_steps < 1:
            raise ValueError('HolaDeepSpeedStrategy: gradient_accumulation_steps must be >= 1, '
                             f'got {gradient_accumulation_steps}')
        self._explicit_clipping = gradient_clipping is not None
        self._explicit_accumulation = gradient_accumulation_steps is not None
        self._explicit_micro_batch = kwargs.get('train_micro_batch_size_per_gpu') is not None
        self._reduce_log_vars = reduce_log_vars
        self._broadcast_buffers = broadcast_buffers
        self._sync_bn = sync_bn
        # MMEngine's __init__ registers DeepSpeed's optimizers: fix that first (once per
        # process; see deepspeed_compat).
        patch_mmengine_deepspeed()
        super().__init__(
            zero_optimization=zero_optimization,
            gradient_clipping=gradient_clipping,
            fp16=fp16,
            bf16=bf16,
            inputs_to_half=inputs_to_half,
            gradient_accumulation_steps=gradient_accumulation_steps,
            **kwargs)
        self._resolve_precision()

    # ------------------------------------------------------------------ precision
    @property
    def half_dtype(self) -> Optional[torch.dtype]:
        """``torch.float16`` / ``torch.bfloat16`` when enabled, None for fp32 training."""
        if self.config.get('fp16', {}).get('enabled', False):
            return torch.float16
        if self.config.get('bf16', {}).get('enabled', False):
            return torch.bfloat16
        return None

    def _resolve_precision(self) -> None:
        """Disable fp16/bf16 (with a warning) where the hardware cannot run them."""
        fp16 = bool(self.config.get('fp16', {}).get('enabled', False))
        bf16 = bool(self.config.get('bf16', {}).get('enabled', False))
        if fp16 and bf16:
            raise ValueError('HolaDeepSpeedStrategy: enable either fp16 or bf16, not both')
        reason = None
        if (fp16 or bf16) and not torch.cuda.is_available():
            reason = 'no CUDA device is available (half precision on CPU is not supported here)'
        elif bf16 and not torch.cuda.is_bf16_supported():
            reason = 'this GPU does not support bfloat16 (use fp16=dict(enabled=True))'
        if reason is not None:
            kind = 'fp16' if fp16 else 'bf16'
            msg = f'HolaDeepSpeedStrategy: {kind} requested but {reason}; training in fp32.'
            warnings.warn(msg, stacklevel=3)
            print_log(msg, logger='current', level=30)
            self.config[kind] = dict(self.config[kind], enabled=False)
        if self.half_dtype is not None and self._inputs_to_half is None:
            self._inputs_to_half = ['inputs']

    # ------------------------------------------------------------------ distributed
    def _setup_distributed(self,
                           launcher: Optional[str] = None,
                           backend: Optional[str] = None,
                           **kwargs) -> None:
        """Start the process group through DeepSpeed.

        Args:
            launcher (str, optional): ``pytorch`` (torchrun), ``slurm`` or ``mpi``.
            backend (str, optional): ``nccl``, ``gloo`` or ``mpi``; defaults to NCCL with CUDA
                and gloo without. NCCL without CUDA is replaced by gloo (with a warning).
            **kwargs: ``timeout`` (seconds), ``port`` (slurm) and other arguments of
                :func:`deepspeed.init_distributed`.
        """
        backend = self._resolve_backend(backend)
        prepare_launcher_env(launcher, kwargs.pop('port', None))
        self._init_process_group(backend, **kwargs)

    def _resolve_backend(self, backend: Optional[str]) -> str:
        """The process-group backend to use (see :meth:`_setup_distributed`)."""
        resolved = default_dist_backend(backend)
        if backend and resolved != backend:
            msg = (f'HolaDeepSpeedStrategy: dist_cfg.backend="{backend}" needs CUDA, which is '
                   f'not available; using {resolved}.')
            warnings.warn(msg, stacklevel=3)
        return resolved

    @staticmethod
    def _init_process_group(backend: str, **kwargs) -> None:
        """Select the local GPU (if any) and call :func:`deepspeed.init_distributed`."""
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get('LOCAL_RANK', 0)))
        timeout = kwargs.pop('timeout', None)
        if timeout is not None and not isinstance(timeout, datetime.timedelta):
            kwargs['timeout'] = datetime.timedelta(seconds=timeout)
        if torch.cuda.is_available():
            deepspeed.init_distributed(
                dist_backend=backend, auto_mpi_discovery=False, verbose=False, **kwargs)
            return
        with skip_cpu_shm_comm_build():
            deepspeed.init_distributed(
                dist_backend=backend, auto_mpi_discovery=False, verbose=False, **kwargs)

    def _ensure_process_group(self) -> None:
        """One-process group for launcher ``none`` (DeepSpeed needs an initialized group)."""
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            return
        os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
        os.environ.setdefault('MASTER_PORT', str(_free_port()))
        for key, value in (('RANK', '0'), ('LOCAL_RANK', '0'), ('WORLD_SIZE', '1')):
            os.environ.setdefault(key, value)
        if os.environ['WORLD_SIZE'] != '1':
            raise RuntimeError('HolaDeepSpeedStrategy: WORLD_SIZE>1 in the environment but '
                               'launcher is none; pass --launcher pytorch')
        self._init_process_group(default_dist_backend())

    # ------------------------------------------------------------------ preparation
    def prepare(self,
                model: Union[nn.Module, dict],
                *,
                optim_wrapper: Union[BaseOptimWrapper, dict, None] = None,
                param_scheduler=None,
                compile: Union[dict, bool] = False,
                dispatch_kwargs: Optional[dict] = None):
        """Set the micro batch size, then build and wrap the model (see ``DeepSpeedStrategy``).

        Args:
            model (nn.Module | dict): The model or its config.
            optim_wrapper (BaseOptimWrapper | dict, optional): Optimizer wrapper (config).
            param_scheduler (optional): Parameter scheduler config(s).
            compile (dict | bool): Unused by DeepSpeed; kept for the interface.
            dispatch_kwargs (dict, optional): Set by ``FlexibleRunner``; holds
                ``train_micro_batch_size_per_gpu`` when training.
        """
        if self._prepared:
            return self._prepared_components()
        dispatch_kwargs = dict(dispatch_kwargs or {})
        micro = dispatch_kwargs.get('train_micro_batch_size_per_gpu')
        if micro is not None:
            configured = self.config.get('train_micro_batch_size_per_gpu')
            if configured is not None and configured != micro and self._explicit_micro_batch:
                print_log(f'HolaDeepSpeedStrategy: train_micro_batch_size_per_gpu={configured} '
                          f'differs from the train dataloader batch size {micro}; using {micro}.',
                          logger='current', level=30)
            self.config['train_micro_batch_size_per_gpu'] = micro
        elif ('train_micro_batch_size_per_gpu' not in self.config
              and 'train_batch_size' not in self.config):
            # Evaluation only: DeepSpeed still wants a batch size in its config.
            self.config['train_micro_batch_size_per_gpu'] = 1
        self._ensure_process_group()
        return super().prepare(
            model,
            optim_wrapper=optim_wrapper,
            param_scheduler=param_scheduler,
            compile=compile,
            dispatch_kwargs=dispatch_kwargs)

    def build_model(self, model: Union[nn.Module, dict]) -> nn.Module:
        """Build the model; convert BatchNorm to SyncBatchNorm if ``sync_bn`` (GPU only).

        Args:
            model (nn.Module | dict): The model or its config.
        """
        model = super().build_model(model)
        if self._sync_bn is not None:
            if torch.cuda.is_available():
                model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
            else:
                msg = ('HolaDeepSpeedStrategy: sync_bn needs CUDA (torch.nn.SyncBatchNorm has no '
                       'CPU implementation); BatchNorm statistics stay per rank.')
                warnings.warn(msg, stacklevel=2)
                print_log(msg, logger='current', level=30)
        return model

    def build_optim_wrapper(self, optim_wrapper: Union[BaseOptimWrapper, dict],
                            model: Optional[nn.Module] = None) -> BaseOptimWrapper:
        """Build a ``DeepSpeedOptimWrapper``, translating a plain ``OptimWrapper`` config.

        Args:
            optim_wrapper (BaseOptimWrapper | dict): Instance or config.
            model (nn.Module, optional): The model whose parameters are optimized.
        """
        if isinstance(optim_wrapper, dict):
            optim_wrapper = self._translate_optim_wrapper_cfg(optim_wrapper)
        return super().build_optim_wrapper(optim_wrapper, model)

    def _translate_optim_wrapper_cfg(self, cfg: dict) -> dict:
        """Map ``OptimWrapper`` options onto the DeepSpeed config (see class docstring)."""
        cfg = copy.deepcopy(dict(cfg))
        wrapper_type = cfg.get('type', 'OptimWrapper')
        if not isinstance(wrapper_type, str):
            wrapper_type = wrapper_type.__name__
        if wrapper_type == 'AmpOptimWrapper':
            self._amp_to_deepspeed_precision(cfg.pop('dtype', None), cfg.pop('loss_scale', None))
            wrapper_type = 'OptimWrapper'
        if wrapper_type not in _CONVERTIBLE_OPTIM_WRAPPERS:
            return cfg
        cfg['type'] = 'DeepSpeedOptimWrapper'
        clip_grad = cfg.pop('clip_grad', None)
        if clip_grad is not None:
            if clip_grad.get('type', 'norm') != 'norm' or clip_grad.get('norm_type', 2) != 2:
                raise ValueError('HolaDeepSpeedStrategy: DeepSpeed clips by the global L2 norm '
                                 f'only; got optim_wrapper.clip_grad={clip_grad}')
            max_norm = float(clip_grad['max_norm'])
            if self._explicit_clipping and self.config['gradient_clipping'] != max_norm:
                raise ValueError(
                    f'HolaDeepSpeedStrategy: optim_wrapper.clip_grad.max_norm={max_norm} '
                    f'contradicts strategy.gradient_clipping={self.config["gradient_clipping"]}')
            self.config['gradient_clipping'] = max_norm
        counts = cfg.pop('accumulative_counts', None)
        if counts is not None:
            if self._explicit_accumulation and (self.config['gradient_accumulation_steps']
                                                != counts):
                raise ValueError(
                    f'HolaDeepSpeedStrategy: optim_wrapper.accumulative_counts={counts} '
                    'contradicts strategy.gradient_accumulation_steps='
                    f'{self.config["gradient_accumulation_steps"]}')
            self.config['gradient_accumulation_steps'] = int(counts)
        return cfg

    def _amp_to_deepspeed_precision(self, dtype, loss_scale) -> None:
        """Turn ``AmpOptimWrapper(dtype, loss_scale)`` into DeepSpeed's fp16/bf16 section.

        Args:
            dtype (str | torch.dtype, optional): ``float16`` (default) or ``bfloat16``.
            loss_scale (str | float | dict, optional): ``'dynamic'`` (default) or a fixed scale.
        """
        if self.half_dtype is not None:
            return  # the strategy's own fp16/bf16 setting wins
        name = str(dtype or 'float16').replace('torch.', '')
        if name in ('bfloat16', 'bf16'):
            self.config['bf16'] = dict(enabled=True)
        elif name in ('float16', 'fp16', 'half'):
            scale = 0 if loss_scale in (None, 'dynamic') or isinstance(loss_scale,
                                                                       dict) else loss_scale
            self.config['fp16'] = dict(enabled=True, loss_scale=float(scale))
        else:
            raise ValueError(f'HolaDeepSpeedStrategy: AmpOptimWrapper dtype {dtype!r} is not '
                             'float16 or bfloat16')
        print_log(f'HolaDeepSpeedStrategy: AmpOptimWrapper -> DeepSpeed {name} mixed precision.',
                  logger='current')
        self._resolve_precision()

    def _wrap_model(self, model: nn.Module) -> HolaDeepSpeedEngineWrapper:
        """Initialize the DeepSpeed engine and wrap it for MMEngine's loops.

        The engine's config is plain data (no ``ConfigDict`` pickled into its checkpoints) and
        its checkpoint engine reads files with the weights-only loader.
        """
        self.config = to_plain(dict(self.config))
        if hasattr(self, 'optim_wrapper'):
            with lazy_muon_support_check():
                engine, self.optim_wrapper.optimizer, *_ = deepspeed.initialize(
                    model=model, optimizer=self.optim_wrapper.optimizer, config=self.config)
        else:
            config = self.config
            stage = config.get('zero_optimization', {}).get('stage', 0)
            if stage in (1, 2):
                # ZeRO-1/2 partition optimizer states and gradients only (weights are replicated)
                # and DeepSpeed refuses them without an optimizer: evaluate with stage 0.
                config = copy.deepcopy(config)
                config['zero_optimization'] = dict(stage=0)
            engine, *_ = deepspeed.initialize(model=model, config=config)
        if getattr(engine, 'checkpoint_engine', None) is not None:
            engine.checkpoint_engine.load = _safe_deepspeed_load
        return HolaDeepSpeedEngineWrapper(
            model=engine,
            inputs_to_half=self._inputs_to_half,
            reduce_log_vars=self._reduce_log_vars,
            broadcast_buffers=self._broadcast_buffers)

    # ------------------------------------------------------------------ checkpoints
    def load_checkpoint(self,
                        filename: str,
                        *,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False,
                        revise_keys: Optional[list] = None,
                        callback: Optional[Callable] = None) -> dict:
        """Load weights from a DeepSpeed checkpoint directory or a plain checkpoint file.

        A plain file (``{'state_dict': ..., 'meta': ...}``, e.g. the output of
        ``tools/model_converters/zero2holaframe.py``) is loaded into the engine's module; under
        ZeRO-3 the partitioned parameters are gathered first; the optimizer's fp32 master
        weights are refreshed so that fine-tuning starts from the loaded weights.

        Args:
            filename (str): Checkpoint directory (``work_dir/iter_4.pth``) or ``.pth`` file.
            map_location (str | Callable): Unused for directories. Defaults to ``'cpu'``.
            strict (bool): Require matching keys for plain files. Defaults to False.
            revise_keys (list, optional): ``(pattern, replacement)`` applied to plain-file keys;
                defaults to stripping a leading ``module.``.
            callback (Callable, optional): Called with the loaded checkpoint dict.
        """
        if revise_keys is None:
            revise_keys = [(r'^module.', '')]
        if osp.isdir(filename):
            extra = super().load_checkpoint(filename, map_location=map_location, strict=strict,
                                            revise_keys=revise_keys, callback=None)
            if callback is not None:
                callback(extra)
            return extra
        if not is_url(filename) and not osp.isfile(filename):
            raise FileNotFoundError(f'HolaDeepSpeedStrategy: checkpoint {filename} not found')
        from mmengine.runner.checkpoint import load_state_dict
        self.logger.info(f'Load plain checkpoint from {filename}')
        try:
            checkpoint = load_checkpoint(filename, map_location='cpu')
        except UnsafeCheckpointError:
            raise
        except Exception as exc:  # a DeepSpeed file or an unknown format
            raise RuntimeError(
                f'HolaDeepSpeedStrategy: {filename} is not a plain weights-only checkpoint '
                f'({exc}); convert it with tools/model_converters/zero2holaframe.py') from exc
        if callback is not None:
            callback(checkpoint)
        state_dict = checkpoint.get('state_dict', checkpoint)
        for pattern, replacement in revise_keys:
            state_dict = type(state_dict)(
                (re.sub(pattern, replacement, k), v) for k, v in state_dict.items())
        module = self.model.module
        if self.model.zero_optimization_partition_weights():  # ZeRO-3
            params = list(module.parameters())
            with deepspeed.zero.GatheredParameters(params, modifier_rank=0):
                load_state_dict(module, state_dict, strict=strict, logger=self.logger)
        else:
            load_state_dict(module, state_dict, strict=strict, logger=self.logger)
        optimizer = getattr(self.model, 'optimizer', None)
        if optimizer is not None and hasattr(optimizer, 'refresh_fp32_params'):
            optimizer.refresh_fp32_params()
        return checkpoint

    def resume(self, filename: str, **kwargs) -> dict:
        """Resume from a DeepSpeed checkpoint directory (see ``DeepSpeedStrategy.resume``).

        Args:
            filename (str): Checkpoint directory written by this strategy.
            **kwargs: ``resume_optimizer``, ``resume_param_scheduler``, ...
        """
        if not osp.isdir(filename):
            raise ValueError(
                f'HolaDeepSpeedStrategy: cannot resume from {filename}: a DeepSpeed checkpoint is '
                'a directory (e.g. work_dir/iter_100.pth/); to start from plain weights use '
                'load_from instead of resume')
        callback = kwargs.pop('callback', None)
        extra = super().resume(filename, **kwargs)
        if callback is not None:  # MMEngine's DeepSpeedStrategy never calls it
            callback(extra)
        return extra

    def save_checkpoint(self,
                        filename: str,
                        *,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        extra_ckpt: Optional[dict] = None,
                        callback: Optional[Callable] = None) -> None:
        """Save a checkpoint atomically, after the ``before_save_checkpoint`` hooks ran.

        With the optimizer (a resumable checkpoint) DeepSpeed writes a folder: every rank writes
        its shards into a temporary folder next to ``filename``, which rank 0 renames when all
        are done. Without it, rank 0 writes ``{'state_dict': ..., **extra_ckpt}`` to a temporary
        file and renames it. Either way ``filename`` is the old or the new complete checkpoint.

        Args:
            filename (str): Checkpoint folder (or file without the optimizer).
            save_optimizer (bool): Save optimizer states (a DeepSpeed folder). Defaults to True.
            save_param_scheduler (bool): Save the parameter schedulers. Defaults to True.
            extra_ckpt (dict, optional): ``meta``, ``message_hub`` and other extra state.
            callback (Callable, optional): Called with the checkpoint dict before it is written
                (``FlexibleRunner`` calls the ``before_save_checkpoint`` hooks through it).
        """
        import mmengine
        from mmengine.dist import barrier, is_main_process
        from mmengine.runner.checkpoint import weights_to_cpu
        extra = dict(extra_ckpt or {})
        meta = dict(extra.get('meta') or {})
        meta.update(seed=self.seed, time=time.strftime('%Y%m%d_%H%M%S', time.localtime()),
                    mmengine=mmengine.__version__)
        extra['meta'] = meta
        if save_param_scheduler and hasattr(self, 'param_schedulers'):
            extra['param_schedulers'] = self.scheduler_state_dict()
        if callback is not None:
            callback(extra)
        extra = to_plain(extra)
        kwargs = dict(exclude_frozen_parameters=self.exclude_frozen_parameters)
        if not save_optimizer and self.model.zero_optimization_partition_weights() and \
                not self.model.zero_gather_16bit_weights_on_model_save():
            save_optimizer = True  # ZeRO-3 cannot gather the weights otherwise
        if save_optimizer:
            if hasattr(self, 'optim_wrapper'):
                extra['optim_wrapper'] = self.optim_state_dict()
            dirname, basename = osp.split(osp.normpath(filename))
            tmp_tag = f'.{basename}.tmp'
            if is_main_process() and osp.isdir(osp.join(dirname, tmp_tag)):
                shutil.rmtree(osp.join(dirname, tmp_tag))  # left by a killed run
            barrier()
            self.model.save_checkpoint(dirname, tag=tmp_tag, client_state=extra,
                                       save_latest=False, **kwargs)
            barrier()
            if is_main_process():
                atomic_replace_dir(osp.join(dirname, tmp_tag), osp.join(dirname, basename))
            barrier()
            return
        if self.model.zero_optimization_partition_weights():
            state_dict = self.model._zero3_consolidated_16bit_state_dict(**kwargs)
        else:
            state_dict = self.model.module_state_dict(**kwargs)
        if is_main_process():
            atomic_torch_save({'state_dict': weights_to_cpu(state_dict), **extra}, filename)

