"""Wrapper that lets MMEngine's loops drive a DeepSpeed engine (train/val/test steps)."""

from typing import Dict, List, Optional, Union

import torch
import torch.distributed as torch_dist
from mmengine._strategy.deepspeed import MMDeepSpeedEngineWrapper
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.utils import apply_to
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

from holaframe.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class HolaDeepSpeedEngineWrapper(MMDeepSpeedEngineWrapper):
    """Train/val/test steps of a holaframe model inside a DeepSpeed engine.

    ``train_step`` = the model's ``data_preprocessor(training=True)`` -> cast floating inputs to
    the engine's half dtype (if any) -> ``engine(**data, mode='loss')`` -> the model's
    ``parse_losses`` -> ``engine.backward`` / ``engine.step`` (DeepSpeed applies gradient
    accumulation, clipping and the ZeRO partitioning) -> rank 0's buffers to every rank. A model
    that overrides ``train_step`` is warned once, because that override cannot run under
    DeepSpeed (the engine owns backward and step); put custom logic into ``forward(mode='loss')``
    instead.

    Args:
        model (deepspeed.DeepSpeedEngine): The engine returned by ``deepspeed.initialize``.
        inputs_to_half (list[int | str], optional): Keys (dict data) or positions (tuple data)
            of the preprocessed data whose floating-point tensors are cast to the half dtype.
        reduce_log_vars (bool): Average the logged values over ranks, so that the logged loss is
            the loss of the global batch. Defaults to True.
        broadcast_buffers (bool): Copy rank 0's buffers (e.g. BatchNorm running statistics) to
            every rank after each training step (``DistributedDataParallel`` does it before the
            forward), so that between iterations every rank holds the model that rank 0 saves:
            validation agrees across ranks and a resumed run restores every rank exactly.
            Defaults to True.
    """

    def __init__(self,
                 *,
                 model,
                 inputs_to_half: Optional[List[Union[int, str]]] = None,
                 reduce_log_vars: bool = True,
                 broadcast_buffers: bool = True) -> None:
        super().__init__(model=model, inputs_to_half=inputs_to_half)
        self._reduce_log_vars = reduce_log_vars
        self._broadcast_buffers = broadcast_buffers
        module = model.module
        if (isinstance(module, BaseModel)
                and type(module).train_step is not BaseModel.train_step):
            print_log(
                f'{type(module).__name__} overrides train_step, which DeepSpeed bypasses: the '
                'engine runs data_preprocessor -> forward(mode="loss") -> parse_losses -> '
                'backward/step (holaframe/engine/strategies/hola_deep_speed_engine_wrapper.py).',
                logger='current',
                level=30)

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper) -> Dict[str, torch.Tensor]:
        """One micro-step: preprocess, forward in ``loss`` mode, backward and (maybe) step.

        Args:
            data (dict | tuple | list): A batch from the dataloader.
            optim_wrapper (DeepSpeedOptimWrapper): Its ``update_params`` calls the engine.

        Returns:
            dict[str, Tensor]: Logged values (averaged over ranks if ``reduce_log_vars``).
        """
        module = self.model.module
        data = module.data_preprocessor(data, True)
        data = self._cast_inputs_half(data)
        losses = self._run_forward(data, mode='loss')
        parsed_loss, log_vars = module.parse_losses(losses)
        optim_wrapper.update_params(parsed_loss)
        if self._broadcast_buffers:
            self._broadcast_buffers_from_rank0(module)
        if self._reduce_log_vars:
            log_vars = self._mean_over_ranks(log_vars)
        return log_vars

    @staticmethod
    def _broadcast_buffers_from_rank0(module: torch.nn.Module) -> None:
        """Overwrite every rank's buffers with rank 0's (one broadcast per dtype)."""
        if not (torch_dist.is_available() and torch_dist.is_initialized()):
            return
        if torch_dist.get_world_size() == 1:
            return
        by_dtype: Dict[torch.dtype, List[torch.Tensor]] = {}
        for buf in module.buffers():
            by_dtype.setdefault(buf.dtype, []).append(buf)
        for buffers in by_dtype.values():
            flat = _flatten_dense_tensors([b.data for b in buffers])
            torch_dist.broadcast(flat, src=0)
            for buf, synced in zip(buffers, _unflatten_dense_tensors(flat, buffers)):
                buf.data.copy_(synced)

    @staticmethod
    def _mean_over_ranks(log_vars: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Average every logged value over the process group (one all-reduce)."""
        if not (torch_dist.is_available() and torch_dist.is_initialized()):
            return log_vars
        world_size = torch_dist.get_world_size()
        if world_size == 1 or not log_vars:
            return log_vars
        keys = list(log_vars)
        values = [torch.as_tensor(log_vars[k]).detach().float().reshape(()) for k in keys]
        device = values[0].device
        if torch_dist.get_backend() == 'nccl' and device.type != 'cuda':
            device = torch.device('cuda', torch.cuda.current_device())
        stacked = torch.stack([v.to(device) for v in values])
        torch_dist.all_reduce(stacked)
        stacked = stacked / world_size
        return type(log_vars)((k, stacked[i]) for i, k in enumerate(keys))

    def _cast_inputs_half(self, inputs: Union[list, tuple, dict, None]):
        """Cast the floating-point tensors of the selected inputs to the engine's dtype.

        Unlike MMEngine's version, integer and boolean tensors (labels, ``has_audio``) keep
        their dtype.

        Args:
            inputs (list | tuple | dict | None): Output of the data preprocessor.
        """
        if self._inputs_to_half is None or inputs is None:
            return inputs
        dtype = next(self.model.parameters()).dtype
        if not dtype.is_floating_point:
            return inputs

        def is_float_tensor(x) -> bool:
            return isinstance(x, torch.Tensor) and x.is_floating_point()

        def cast(value):
            return apply_to(value, is_float_tensor, lambda x: x.to(dtype))

        if isinstance(inputs, dict):
            return {k: cast(v) if k in self._inputs_to_half else v for k, v in inputs.items()}
        if isinstance(inputs, (list, tuple)):
            return inputs.__class__(
                cast(v) if i in self._inputs_to_half else v for i, v in enumerate(inputs))
        raise TypeError('HolaDeepSpeedEngineWrapper: inputs must be a list, tuple or dict, '
                        f'got {type(inputs)}')
