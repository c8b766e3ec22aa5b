"""Per-module gradient norms (per loss term) and activation statistics during training."""

import json
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from holaframe.registry import HOOKS

DATA_BATCH = Optional[dict]


def activation_stats(x: torch.Tensor) -> Dict[str, float]:
    """Statistics of one module output whose first axis is the batch, last axis the features.

    ``mean``, ``std`` and ``absmax`` over all elements; ``clip_std``: each sample's features
    averaged over the middle axes (e.g. the sequence of a ``(B, L, C)`` output), then the
    standard deviation across the batch per feature, averaged over features. A ``clip_std``
    near 0 means the module gives every clip the same pooled feature (nothing downstream can
    separate the clips).

    Args:
        x (Tensor): Output of shape ``(B, ..., C)``.
    """
    x = x.detach().float()
    pooled = x.reshape(x.shape[0], -1, x.shape[-1]).mean(1) if x.dim() > 1 else x[:, None]
    clip_std = pooled.std(0, unbiased=False).mean() if x.shape[0] > 1 else x.new_zeros(())
    return dict(mean=float(x.mean()), std=float(x.std(unbiased=False)),
                absmax=float(x.abs().max()), clip_std=float(clip_std))


@HOOKS.register_module()
class ModuleStatsHook(Hook):
    """Logs, every ``interval`` training iterations, where the gradients go and what flows.

    On a logged iteration the hook runs its own forward pass (``mode='loss'``) on that
    iteration's batch, before the real training step, and for each loss term separately
    computes the gradient norm of the parameters of every module in ``grad_modules``
    (``torch.autograd.grad``: the optimiser, the parameter gradients and the BatchNorm running
    statistics are left exactly as they were). So one can see, e.g., whether the classification
    loss or an auxiliary loss drives a shared module. Forward hooks on ``act_modules`` record
    :func:`activation_stats` of their outputs (each tensor of a tuple output separately, suffix
    ``.0``, ``.1``). Also logged per module: parameter norm, and the learning rate and weight
    decay that the optimiser applies to its parameters (``numel``-weighted mean).

    Records go to ``<work_dir>/module_stats.jsonl`` (one JSON object per logged iteration), to
    the visualizer as scalars ``stats/<key>`` and, as a table, to the log.

    Example::

        custom_hooks = [dict(type='ModuleStatsHook', interval=50,
                             act_modules=['neck', 'interaction', 'fusion', 'refiner'])]

    Args:
        interval (int): Log every ``interval`` iterations (and at the first). Defaults to 50.
        grad_modules (Sequence[str], optional): Dotted module names whose parameter gradients
            are measured. Defaults to the model's direct children (without the data
            preprocessor).
        act_modules (Sequence[str], optional): Dotted module names whose outputs are measured.
            Defaults to ``grad_modules``.
        file_name (str): Name of the JSON-lines file in the work dir.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 50, grad_modules: Optional[Sequence[str]] = None,
                 act_modules: Optional[Sequence[str]] = None,
                 file_name: str = 'module_stats.jsonl') -> None:
        if interval < 1:
            raise ValueError(f'module_stats_hook.py: interval must be >= 1, got {interval}')
        self.interval = interval
        self.grad_modules = list(grad_modules) if grad_modules is not None else None
        self.act_modules = list(act_modules) if act_modules is not None else None
        self.file_name = file_name
        self.records: List[dict] = []

    @staticmethod
    def _model(runner) -> nn.Module:
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def _names(self, model: nn.Module):
        children = [n for n, _ in model.named_children() if n != 'data_preprocessor']
        grad_modules = self.grad_modules if self.grad_modules is not None else children
        act_modules = self.act_modules if self.act_modules is not None else grad_modules
        modules = dict(model.named_modules())
        missing = [n for n in list(grad_modules) + list(act_modules) if n not in modules]
        if missing:
            raise KeyError(f'module_stats_hook.py: the model has no module(s) {missing}; '
                           f'its children are {children}')
        return grad_modules, act_modules, modules

    def _optim_settings(self, runner, model: nn.Module,
                        grad_modules: Sequence[str]) -> Dict[str, Dict[str, float]]:
        optimizer = getattr(getattr(runner, 'optim_wrapper', None), 'optimizer', None)
        if optimizer is None or not hasattr(optimizer, 'param_groups'):
            return {}
        setting = {}
        for group in optimizer.param_groups:
            for p in group['params']:
                setting[id(p)] = (group.get('lr', 0.0), group.get('weight_decay', 0.0))
        out = {}
        for name in grad_modules:
            params = [p for p in model.get_submodule(name).parameters() if id(p) in setting]
            total = sum(p.numel() for p in params)
            if total:
                out[name] = dict(
                    lr=sum(setting[id(p)][0] * p.numel() for p in params) / total,
                    weight_decay=sum(setting[id(p)][1] * p.numel() for p in params) / total)
        return out

    def collect(self, model: nn.Module, data_batch: dict, runner=None) -> dict:
        """Measure one batch (the same as on a logged iteration) and return the record.

        Args:
            model (nn.Module): The (unwrapped) model, with ``data_preprocessor`` and
                ``forward(..., mode='loss')`` returning a dict of losses.
            data_batch (dict): A batch as the dataloader gives it.
            runner (Runner, optional): For the optimiser's learning rate and weight decay.
        """
        grad_modules, act_modules, modules = self._names(model)
        buffers = {k: v.detach().clone() for k, v in model.named_buffers()}
        acts: Dict[str, Dict[str, float]] = OrderedDict()

        def make_hook(name):
            def hook(_module, _inputs, output):
                outs = output if isinstance(output, (tuple, list)) else (output,)
                tensors = [o for o in outs if isinstance(o, torch.Tensor)]
                for i, t in enumerate(tensors):
                    key = name if len(tensors) == 1 else f'{name}.{i}'
                    if t.dim() >= 1 and t.is_floating_point():
                        acts[key] = activation_stats(t)
            return hook

        handles = [modules[n].register_forward_hook(make_hook(n)) for n in act_modules]
        was_training = model.training
        model.train()
        try:
            with torch.enable_grad():
                data = model.data_preprocessor(data_batch, True)
                losses = model(**data, mode='loss')
                groups = {n: [p for p in modules[n].parameters() if p.requires_grad]
                          for n in grad_modules}
                grads: Dict[str, Dict[str, float]] = OrderedDict()
                terms = OrderedDict((k, v) for k, v in losses.items()
                                    if 'loss' in k and isinstance(v, torch.Tensor)
                                    and v.requires_grad)
                flat = [p for ps in groups.values() for p in ps]
                for i, (key, value) in enumerate(terms.items()):
                    g = torch.autograd.grad(value, flat, retain_graph=i < len(terms) - 1,
                                            allow_unused=True)
                    start = 0
                    for name, ps in groups.items():
                        part = g[start:start + len(ps)]
                        start += len(ps)
                        sq = sum(float(x.detach().float().pow(2).sum()) for x in part
                                 if x is not None)
                        grads.setdefault(name, OrderedDict())[key] = sq ** 0.5
                loss_values = {k: float(v.detach()) for k, v in losses.items()
                               if isinstance(v, torch.Tensor) and v.numel() == 1}
        finally:
            for h in handles:
                h.remove()
            with torch.no_grad():
                for k, v in model.named_buffers():
                    v.copy_(buffers[k])
            model.train(was_training)
        params = {n: float(sum(p.detach().float().pow(2).sum() for p in ps) ** 0.5)
                  if ps else 0.0 for n, ps in groups.items()}
        optim = self._optim_settings(runner, model, grad_modules) if runner is not None else {}
        return dict(losses=loss_values, grad_norm=grads, param_norm=params, optim=optim,
                    activations=acts)

    def before_train_iter(self, runner, batch_idx: int, data_batch: DATA_BATCH = None) -> None:
        """Measure the batch of a logged iteration before the training step runs."""
        it = runner.iter
        if data_batch is None or not (it == 0 or (it + 1) % self.interval == 0):
            return
        record = dict(iter=it + 1, epoch=runner.epoch + 1,
                      **self.collect(self._model(runner), data_batch, runner))
        self.records.append(record)
        if not is_main_process():
            return
        scalars = {}
        for name, per_loss in record['grad_norm'].items():
            for key, val in per_loss.items():
                scalars[f'stats/grad/{name}/{key}'] = val
        for name, st in record['activations'].items():
            for key, val in st.items():
                scalars[f'stats/act/{name}/{key}'] = val
        runner.visualizer.add_scalars(scalars, step=it + 1)
        with open(osp.join(runner.work_dir, self.file_name), 'a') as f:
            f.write(json.dumps(record) + '\n')
        runner.logger.info(self.format_record(record))

    @staticmethod
    def format_record(record: dict) -> str:
        """A compact table of one record (for the log)."""
        terms = sorted({k for g in record['grad_norm'].values() for k in g})
        lines = [f"module stats, iter {record['iter']}: gradient norm per loss term | "
                 f"param norm | lr | wd"]
        lines.append('  ' + ' '.join(f'{k:>14}' for k in ['module'] + terms))
        for name, per_loss in record['grad_norm'].items():
            opt = record['optim'].get(name, {})
            cells = [f'{per_loss.get(k, 0.0):14.3e}' for k in terms]
            lines.append(f'  {name:>14} ' + ' '.join(cells)
                         + f" | {record['param_norm'].get(name, 0.0):9.3f}"
                         + f" | {opt.get('lr', float('nan')):.2e} | "
                         + f"{opt.get('weight_decay', float('nan')):.3f}")
        lines.append('  activations: mean / std / clip_std / absmax')
        for name, st in record['activations'].items():
            lines.append(f"  {name:>20} {st['mean']:9.4f} {st['std']:9.4f} "
                         f"{st['clip_std']:9.4f} {st['absmax']:9.3f}")
        return '\n'.join(lines)
