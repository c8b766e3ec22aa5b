"""Unit tests of HolaDeepSpeedStrategy, its engine wrapper and the DeepSpeed compatibility shims.

Everything here runs in one process without a process group, except
``test_single_process_zero_step_and_plain_checkpoint``, which starts a one-process gloo group
(as ``tools/test.py`` does) and removes it (and its environment variables) again.
"""

import os
import sys
import warnings

import pytest
import torch
import torch.nn as nn

from holaframe.engine.strategies import (
    HolaDeepSpeedEngineWrapper,
    HolaDeepSpeedStrategy,
    deepspeed_compat,
)
from holaframe.registry import MODEL_WRAPPERS, STRATEGIES


def make_strategy(tmp_path, **kwargs) -> HolaDeepSpeedStrategy:
    return HolaDeepSpeedStrategy(work_dir=str(tmp_path), env_kwargs=dict(launcher='none'),
                                 **kwargs)


def test_registered():
    assert STRATEGIES.get('HolaDeepSpeedStrategy') is HolaDeepSpeedStrategy
    assert MODEL_WRAPPERS.get('HolaDeepSpeedEngineWrapper') is HolaDeepSpeedEngineWrapper


def test_onebit_shim_imports_and_fails_clearly_when_used():
    deepspeed_compat.install_onebit_shim()
    assert deepspeed_compat.install_onebit_shim() is False  # idempotent
    from deepspeed.runtime.fp16.onebit import OnebitAdam, OnebitLamb, ZeroOneAdam
    for cls in (OnebitAdam, OnebitLamb, ZeroOneAdam):
        with pytest.raises(RuntimeError, match='does not exist in the installed DeepSpeed'):
            cls([nn.Parameter(torch.zeros(1))])


def test_mmengine_optimizer_registration_runs_twice():
    from mmengine._strategy import deepspeed as mm_ds
    from mmengine.registry import OPTIMIZERS
    deepspeed_compat.patch_mmengine_deepspeed()
    mm_ds.register_deepspeed_optimizers()
    names = mm_ds.register_deepspeed_optimizers()
    assert {'DeepSpeedCPUAdam', 'FusedAdam', 'OnebitAdam'} <= set(names)
    assert 'FusedAdam' in OPTIMIZERS.module_dict


def test_patch_applied_by_the_strategy_not_by_imports(tmp_path):
    """Importing holaframe patches nothing; the first strategy patches once, later ones reuse."""
    code = f"""
import sys
from mmengine._strategy import deepspeed as mm_ds
from holaframe.utils import register_all_modules
register_all_modules()
from holaframe.engine.strategies import HolaDeepSpeedStrategy, deepspeed_compat as dc
shim = sys.modules.get(dc.ONEBIT_MODULE)
assert not getattr(shim, '__holaframe_shim__', False), 'shim installed at import'
assert not getattr(mm_ds.register_deepspeed_optimizers, '__holaframe_idempotent__', False)
HolaDeepSpeedStrategy(work_dir={str(tmp_path)!r}, env_kwargs=dict(launcher='none'))
wrapped = mm_ds.register_deepspeed_optimizers
assert wrapped.__holaframe_idempotent__
HolaDeepSpeedStrategy(work_dir={str(tmp_path)!r}, env_kwargs=dict(launcher='none'))
assert mm_ds.register_deepspeed_optimizers is wrapped
assert dc.patch_mmengine_deepspeed() is False
print('lazy patch ok')
"""
    import subprocess
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          env=env, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'lazy patch ok' in proc.stdout


def test_two_strategies_in_one_process(tmp_path):
    a = make_strategy(tmp_path, zero_stage=1)
    b = make_strategy(tmp_path, zero_stage=3)
    assert a.config['zero_optimization']['stage'] == 1
    assert b.config['zero_optimization']['stage'] == 3


def test_zero_stage_validation(tmp_path):
    with pytest.raises(ValueError, match='zero_stage must be 0, 1, 2 or 3'):
        make_strategy(tmp_path, zero_stage=4)
    with pytest.raises(ValueError, match='gradient_accumulation_steps'):
        make_strategy(tmp_path, gradient_accumulation_steps=0)
    strategy = make_strategy(tmp_path, zero_stage=2, zero_optimization=dict(stage=3,
                                                                            overlap_comm=False))
    assert strategy.config['zero_optimization'] == dict(stage=2, overlap_comm=False)


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU fallback')
@pytest.mark.parametrize('kind', ['fp16', 'bf16'])
def test_half_precision_falls_back_to_fp32_on_cpu(tmp_path, kind):
    with pytest.warns(UserWarning, match=f'{kind} requested but no CUDA'):
        strategy = make_strategy(tmp_path, **{kind: dict(enabled=True)})
    assert strategy.config[kind]['enabled'] is False
    assert strategy.half_dtype is None


def test_fp16_and_bf16_together_rejected(tmp_path):
    with pytest.raises(ValueError, match='either fp16 or bf16'):
        make_strategy(tmp_path, fp16=dict(enabled=True), bf16=dict(enabled=True))


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU backend choice')
def test_backend_is_gloo_without_cuda(tmp_path):
    strategy = make_strategy(tmp_path)
    assert strategy._resolve_backend(None) == 'gloo'
    with pytest.warns(UserWarning, match='needs CUDA'):
        assert strategy._resolve_backend('nccl') == 'gloo'
    assert strategy._resolve_backend('gloo') == 'gloo'


def test_optim_wrapper_translation(tmp_path):
    strategy = make_strategy(tmp_path)
    cfg = strategy._translate_optim_wrapper_cfg(
        dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3),
             clip_grad=dict(max_norm=5.0), accumulative_counts=4,
             paramwise_cfg=dict(norm_decay_mult=0.0)))
    assert cfg == dict(type='DeepSpeedOptimWrapper', optimizer=dict(type='AdamW', lr=1e-3),
                       paramwise_cfg=dict(norm_decay_mult=0.0))
    assert strategy.config['gradient_clipping'] == 5.0
    assert strategy.config['gradient_accumulation_steps'] == 4


def test_optim_wrapper_translation_rejects_contradictions(tmp_path):
    strategy = make_strategy(tmp_path, gradient_clipping=1.0, gradient_accumulation_steps=2)
    with pytest.raises(ValueError, match='contradicts strategy.gradient_clipping'):
        strategy._translate_optim_wrapper_cfg(dict(optimizer={}, clip_grad=dict(max_norm=5.0)))
    with pytest.raises(ValueError, match='contradicts strategy.gradient_accumulation_steps'):
        strategy._translate_optim_wrapper_cfg(dict(optimizer={}, accumulative_counts=4))
    with pytest.raises(ValueError, match='global L2 norm'):
        strategy._translate_optim_wrapper_cfg(
            dict(optimizer={}, clip_grad=dict(type='value', clip_value=1.0)))


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU fallback')
def test_amp_optim_wrapper_becomes_deepspeed_precision(tmp_path):
    strategy = make_strategy(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        cfg = strategy._translate_optim_wrapper_cfg(
            dict(type='AmpOptimWrapper', loss_scale='dynamic', optimizer=dict(type='AdamW')))
    assert cfg == dict(type='DeepSpeedOptimWrapper', optimizer=dict(type='AdamW'))
    assert any('fp16 requested but no CUDA' in str(w.message) for w in caught)
    assert strategy.config['fp16']['enabled'] is False  # CPU: fp32


class _FakeEngine(nn.Module):
    """Stands in for a DeepSpeed engine holding a bf16 module."""

    def __init__(self) -> None:
        super().__init__()
        self.module = nn.Linear(2, 2).to(torch.bfloat16)


def test_wrapper_casts_only_floating_inputs():
    wrapper = HolaDeepSpeedEngineWrapper(model=_FakeEngine(), inputs_to_half=['inputs'])
    data = dict(
        inputs=dict(video=torch.rand(2, 3, 4, 8, 8), audio=torch.rand(2, 4, 16),
                    has_audio=torch.tensor([True, False])),
        data_samples=['a', 'b'])
    out = wrapper._cast_inputs_half(data)
    assert out['inputs']['video'].dtype == torch.bfloat16
    assert out['inputs']['audio'].dtype == torch.bfloat16
    assert out['inputs']['has_audio'].dtype == torch.bool
    assert out['data_samples'] == ['a', 'b']


def test_wrapper_without_half_inputs_is_identity():
    wrapper = HolaDeepSpeedEngineWrapper(model=_FakeEngine(), inputs_to_half=None)
    data = dict(inputs=dict(video=torch.rand(1, 3)))
    assert wrapper._cast_inputs_half(data) is data


def test_resume_needs_a_directory(tmp_path):
    strategy = make_strategy(tmp_path)
    plain = tmp_path / 'plain.pth'
    torch.save(dict(state_dict={}), plain)
    with pytest.raises(ValueError, match='a DeepSpeed checkpoint is a directory'):
        strategy.resume(str(plain))


def _full_weights(module: nn.Module) -> dict:
    """Parameters and buffers of ``module`` (gathered first under ZeRO-3)."""
    import deepspeed
    with deepspeed.zero.GatheredParameters(list(module.parameters())):
        return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.fixture(scope='module')
def one_process_group():
    """A one-process gloo group for this module (DeepSpeed keeps its groups per process); the
    group and the environment variables it set are removed afterwards, because MMEngine would
    infer a distributed launcher from ``WORLD_SIZE`` in later tests."""
    import torch.distributed as dist

    from holaframe.utils import register_all_modules

    register_all_modules()
    assert not dist.is_initialized()
    env_before = dict(os.environ)
    try:
        yield
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
        for key in set(os.environ) - set(env_before):
            del os.environ[key]


@pytest.mark.parametrize('stage', [1, 2, 3])
def test_single_process_zero_step_and_plain_checkpoint(tmp_path, one_process_group, stage):
    """ZeRO-1/2/3 in one process: a step trains; a plain checkpoint loads into the engine and
    DeepSpeed's fp32 master weights follow it (the next step starts from the loaded weights)."""
    from mmengine.dataset import pseudo_collate

    from holaframe.testing.distributed import DistToyDataset, DistToyDetector

    linear = torch.nn.functional.linear
    # Threshold 0: ZeRO-3 partitions even the toy's small parameters (else they stay whole).
    strategy = make_strategy(tmp_path, zero_stage=stage,
                             zero_optimization=dict(stage3_param_persistence_threshold=0))
    model = DistToyDetector(data_preprocessor=dict(type='AVDataPreprocessor'))
    strategy.prepare(
        model,
        optim_wrapper=dict(type='OptimWrapper', clip_grad=dict(max_norm=1.0),
                           optimizer=dict(type='AdamW', lr=1e-2)),
        dispatch_kwargs=dict(train_micro_batch_size_per_gpu=4, max_iters=2,
                             max_epochs=1, epoch_length=2))
    assert strategy.config['train_micro_batch_size_per_gpu'] == 4
    assert strategy.config['gradient_clipping'] == 1.0
    assert isinstance(strategy.model, HolaDeepSpeedEngineWrapper)
    module = strategy.model.module
    if stage == 3:
        assert all(p.numel() == 0 for p in module.parameters())  # partitioned away
    batch = pseudo_collate([DistToyDataset(8)[i] for i in range(4)])
    before = _full_weights(module)
    log_vars = strategy.model.train_step(batch, strategy.optim_wrapper)
    assert torch.isfinite(log_vars['loss'])
    assert not torch.equal(before['fc1.weight'], _full_weights(module)['fc1.weight'])

    # A plain checkpoint with recognisable weights (the initial ones + 1).
    target = {k: v + 1.0 for k, v in before.items()}
    plain = tmp_path / 'plain.pth'
    torch.save(dict(state_dict=target, meta=dict(iter=0)), plain)
    strategy.load_checkpoint(str(plain))
    loaded = _full_weights(module)
    for key, value in target.items():
        assert torch.equal(loaded[key], value), key
    strategy.model.train_step(batch, strategy.optim_wrapper)
    # One AdamW step moves each weight by about lr from the loaded values; stale fp32 master
    # weights would pull them back by about 1.
    after = _full_weights(module)
    for key in ('fc1.weight', 'fc2.bias'):
        assert (after[key] - target[key]).abs().max() < 0.05, key
    # ZeRO-3 must not leave torch.nn.functional.linear replaced for the rest of the process.
    assert torch.nn.functional.linear is linear


def test_gradient_accumulation_steps_every_k_micro_batches(tmp_path, one_process_group):
    """``accumulative_counts=2`` in the experiment's OptimWrapper -> DeepSpeed steps every 2nd
    micro-batch (the weights stay put after the 1st)."""
    from mmengine.dataset import pseudo_collate

    from holaframe.testing.distributed import DistToyDataset, DistToyDetector

    strategy = make_strategy(tmp_path, zero_stage=2)
    strategy.prepare(
        DistToyDetector(data_preprocessor=dict(type='AVDataPreprocessor')),
        optim_wrapper=dict(type='OptimWrapper', accumulative_counts=2,
                           optimizer=dict(type='AdamW', lr=1e-2)),
        dispatch_kwargs=dict(train_micro_batch_size_per_gpu=2, max_iters=4, max_epochs=1,
                             epoch_length=4))
    assert strategy.model.gradient_accumulation_steps() == 2
    module = strategy.model.module
    batch = pseudo_collate([DistToyDataset(8)[i] for i in range(2)])
    w0 = module.fc1.weight.detach().clone()
    strategy.model.train_step(batch, strategy.optim_wrapper)
    assert torch.equal(module.fc1.weight, w0)
    strategy.model.train_step(batch, strategy.optim_wrapper)
    assert not torch.equal(module.fc1.weight, w0)
