#!/usr/bin/env python
"""AV-MAE pre-training step of holaframe against the reference HiCMAE code, same size and masks.

The reference is HiCMAE's own pre-training model (``modeling_pretrain_av.py`` of
https://github.com/sunlicai/HiCMAE), imported from a local clone: ``--hicmae-dir PATH``, the
environment variable ``HOLAFRAME_HICMAE_DIR``, or ``--fetch`` (a shallow ``git clone`` into a
temporary folder, removed at the end). The repository is never copied into holaframe.

Three models are built in one process and stepped in turn, round after round (the order
rotates every round), so that load changes on a shared machine hit all three alike:

* ``reference``: HiCMAE's registered constructor (``pretrain_hicmae_dim384_patch16_160_a256``
  or ``..._dim512_...``) with the depth arguments of its ``run_mae_pretraining_av.py``
  (``pretrain_base.sh``: encoders 10, decoders 4, fusion 2, skips from blocks 3, 6, 9);
  it decodes every encoder-masked token;
* ``holaframe``: :class:`~holaframe.models.AVMAEPretrainer` from
  ``configs/_base_/models/avmae_vit-base.py`` with the reference's shapes and the decoder masks
  off, so it also decodes every encoder-masked token (like for like);
* ``holaframe-dual``: the same with the paper's dual masking (running cell 0.5 / random 0.5
  decoder masks: only ``M_en ∩ M_de`` is decoded, docs/pretraining.md).

What makes the comparison like for like:

* the same encoder masks (tube 0.9 / random 0.8, drawn once by holaframe's maskers) and the same
  random inputs go to every model; the decoder masks of ``holaframe-dual`` are drawn inside its
  step and count against it;
* the same losses: per-patch normalised reconstruction targets with HiCMAE's frame-difference
  target (``--use_frame_diff_as_target``), MSE, and HiCMAE's hierarchical contrastive loss
  (temperature 0.07, weight 0.0025, as ``pretrain_base.sh``), which holaframe enables with
  ``HierarchicalContrastiveLoss``. The reference's targets are made by holaframe's
  ``video_reconstruction_targets`` / ``audio_reconstruction_targets`` (the same values as
  HiCMAE's engine, only at the masked tokens), so the target arithmetic costs the same on both
  sides and the comparison is of the model code;
* the same optimiser: ``torch.optim.AdamW`` (betas 0.9 / 0.95, weight decay 0.05,
  ``fused=True`` unless ``--no-fused-adamw``) over all parameters;
* parameter counts are printed and compared: more than 1 % apart and no ratio is reported
  (exit status 3). Forward FLOPs of the loss forward (fvcore x 2, attention counted) are printed
  for each model.

A step = loss forward + ``backward`` + ``optimizer.step`` (``zero_grad(set_to_none=True)``
first), fp32, no autocast. HiCMAE's engine (``engine_for_pretraining_av.train_one_epoch``) is not
run: it needs CUDA (``torch.cuda.amp.autocast``, ``GradScaler``, ``torch.cuda.synchronize``),
``torch._six`` (gone from torch 2) and tensorboardX through its ``utils``; its extras (the loss
``.item()``, gradient-norm logging, learning-rate bookkeeping) would add to the reference's step
only. The reference's model code itself runs unchanged and needs no CUDA.

Reported, with targets (printed, never asserted): the step-time ratio holaframe / reference
without dual masking (target <= 1.0) and the speed-up reference / holaframe with dual masking
(target >= 1.5x). Each is the median over rounds of the ratio within a round (wall time),
also given by CPU time of the process (``time.process_time``, less disturbed by other jobs),
with the load average before and after, the threads and the OpenMP wait policy.

Requirements besides holaframe's: ``einops`` (imported by the reference) and, preferably,
``timm`` (the reference pins 0.4.12, which needs a ``torchvision`` matching the installed torch).
When ``timm.models.layers`` cannot be imported,
:func:`holaframe.testing.reference_code.ensure_timm` registers a stand-in for the four names the
reference takes from it: ``register_model`` (returns the function), ``to_2tuple``,
``trunc_normal_`` (``torch.nn.init.trunc_normal_``, used for initialisation only) and
``drop_path`` (with ``drop_path_rate=0``, the reference's default, ``DropPath`` is an
``nn.Identity`` and it is never called). None of them runs inside the timed step; the report
says which timm was used.

Usage::

    python benchmarks/bench_hicmae_step.py --hicmae-dir ~/src/HiCMAE          # small, batch 2
    python benchmarks/bench_hicmae_step.py --fetch --size base --batch-size 8 --steps 6
    HOLAFRAME_HICMAE_DIR=~/src/HiCMAE python benchmarks/run.py hicmae_step
"""

import argparse
import contextlib
import copy
import json
import os
import os.path as osp
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from typing import Callable, Dict, List, Optional

import measure
import torch
from torch import nn
from torch.nn import functional as F

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
HOLA_MODEL_CFG = osp.join(REPO, 'configs', '_base_', 'models', 'avmae_vit-base.py')
HICMAE_URL = 'https://github.com/sunlicai/HiCMAE'
REFERENCE_MODULE = 'modeling_pretrain_av'
#: Target of holaframe / reference step time without dual masking (at most).
TARGET_RATIO_NO_DUAL = 1.0
#: Target of reference / holaframe step time with dual masking (at least).
TARGET_SPEEDUP_DUAL = 1.5
#: Largest relative difference of the parameter counts for which a ratio is reported.
PARAM_TOLERANCE = 0.01
#: HiCMAE's hierarchical contrastive loss as its pretrain_base.sh sets it.
CONTRASTIVE = dict(temperature=0.07, loss_weight=0.0025)
VARIANTS = ('reference', 'holaframe', 'holaframe-dual')

_DEPTHS = dict(encoder_depth=10, decoder_depth=4, encoder_depth_audio=10, decoder_depth_audio=4,
               encoder_fusion_depth=2, return_intermediate_features=(3, 6, 9))
#: name -> the reference's registered constructor, the keyword arguments passed to it (as
#: run_mae_pretraining_av.get_model does) and the shapes the constructor fixes (which the
#: holaframe model is built with). Every reference constructor is at 160 px, 16 frames, tubelet
#: 2, fbank 256 x 128, patches 16, MLP ratio 4, fusion heads = encoder heads.
SIZES: Dict[str, dict] = {
    'small': dict(constructor='pretrain_hicmae_dim384_patch16_160_a256', kwargs=_DEPTHS,
                  shape=dict(embed_dim=384, num_heads=6, decoder_embed_dim=192,
                             decoder_num_heads=3, img_size=160),
                  batch=2),
    'base': dict(constructor='pretrain_hicmae_dim512_patch16_160_a256', kwargs=_DEPTHS,
                 shape=dict(embed_dim=512, num_heads=8, decoder_embed_dim=384,
                            decoder_num_heads=6, img_size=160),
                 batch=8),
    # The small constructor with 2 encoder blocks, 1 fusion layer and 3 decoder blocks: a check
    # that everything runs (benchmarks/run.py --quick), not a size to report.
    'tiny': dict(constructor='pretrain_hicmae_dim384_patch16_160_a256',
                 kwargs=dict(encoder_depth=2, decoder_depth=3, encoder_depth_audio=2,
                             decoder_depth_audio=3, encoder_fusion_depth=1,
                             return_intermediate_features=(0, 1)),
                 shape=dict(embed_dim=384, num_heads=6, decoder_embed_dim=192,
                            decoder_num_heads=3, img_size=160),
                 batch=1),
}
FIXED_SHAPE = dict(patch_size=16, tubelet_size=2, num_frames=16, spec_size=(256, 128),
                   audio_patch_size=16, mlp_ratio=4.0)


class ReferenceUnavailable(RuntimeError):
    """The reference code could not be found, fetched or imported."""


# ------------------------------------------------------------------------- the reference code
def import_reference(hicmae_dir: str) -> types.ModuleType:
    """Import ``modeling_pretrain_av`` (and its sibling ``modeling_finetune_av``) from a clone."""
    path = osp.join(hicmae_dir, f'{REFERENCE_MODULE}.py')
    if not osp.isfile(path):
        raise ReferenceUnavailable(f'{hicmae_dir} has no {REFERENCE_MODULE}.py: pass a clone of '
                                   f'{HICMAE_URL}')
    for name in (REFERENCE_MODULE, 'modeling_finetune_av'):
        sys.modules.pop(name, None)  # another clone's modules of the same name
    sys.path.insert(0, osp.abspath(hicmae_dir))
    try:
        import importlib
        return importlib.import_module(REFERENCE_MODULE)
    except ImportError as exc:
        raise ReferenceUnavailable(f'importing {path} failed ({exc}); the reference needs '
                                   'einops (pip install einops) and timm') from exc
    finally:
        sys.path.remove(osp.abspath(hicmae_dir))


def reference_problem(args: argparse.Namespace) -> Optional[str]:
    """Why the reference cannot be used as asked (None when it can be tried)."""
    if args.hicmae_dir and args.fetch:
        return 'give --hicmae-dir (or HOLAFRAME_HICMAE_DIR) or --fetch, not both'
    if not args.hicmae_dir and not args.fetch:
        return ('the reference HiCMAE code is needed and is not part of holaframe. Either clone '
                f'it (git clone {HICMAE_URL}) and pass --hicmae-dir PATH (or set '
                'HOLAFRAME_HICMAE_DIR), or pass --fetch to clone it into a temporary folder for '
                'this run (removed afterwards).')
    if args.hicmae_dir and not osp.isfile(osp.join(args.hicmae_dir, f'{REFERENCE_MODULE}.py')):
        return (f'--hicmae-dir {args.hicmae_dir} has no {REFERENCE_MODULE}.py: pass a clone of '
                f'{HICMAE_URL}')
    return None


def git_commit(path: str) -> Optional[str]:
    """The checked-out commit of a git clone, or None."""
    try:
        proc = subprocess.run(['git', '-C', path, 'rev-parse', '--show-toplevel', 'HEAD'],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = proc.stdout.split()
    if proc.returncode != 0 or len(lines) != 2:
        return None
    # A folder inside another repository is not a clone of its own.
    return lines[1] if osp.realpath(lines[0]) == osp.realpath(path) else None


@contextlib.contextmanager
def reference_dir(args: argparse.Namespace):
    """Yield ``(path, how)``: the given clone, or a fresh shallow clone removed afterwards."""
    if args.hicmae_dir:
        yield args.hicmae_dir, 'dir'
        return
    tmp = tempfile.mkdtemp(prefix='hicmae_')
    try:
        dest = osp.join(tmp, 'HiCMAE')
        proc = subprocess.run(['git', 'clone', '--depth', '1', '--quiet', HICMAE_URL, dest],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise ReferenceUnavailable(f'git clone {HICMAE_URL} failed: '
                                       f'{proc.stderr.strip()[-500:]}')
        yield dest, 'fetch'
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------------- models
def build_reference(module: types.ModuleType, size: dict) -> nn.Module:
    """The reference pre-training model through its registered constructor."""
    torch.manual_seed(0)
    return getattr(module, size['constructor'])(
        pretrained=False, drop_path_rate=0.0,
        inter_contrastive_temperature=CONTRASTIVE['temperature'],
        **size['kwargs']).train()


def holaframe_cfg(size: dict, dual: bool) -> dict:
    """holaframe's AV-MAE config (configs/_base_/models/avmae_vit-base.py) at the reference's
    shapes, with HiCMAE's contrastive loss, with or without the decoder masks."""
    from mmengine.config import Config
    cfg = Config.fromfile(HOLA_MODEL_CFG).model.to_dict()
    shape, kw = dict(FIXED_SHAPE, **size['shape']), size['kwargs']
    enc = dict(embed_dim=shape['embed_dim'], num_heads=shape['num_heads'],
               mlp_ratio=shape['mlp_ratio'])
    dec = dict(type='AVMAEDecoder', embed_dim=shape['decoder_embed_dim'],
               num_heads=shape['decoder_num_heads'], mlp_ratio=shape['mlp_ratio'])
    cfg.update(
        video_encoder=dict(type='VideoViTEncoder', img_size=shape['img_size'],
                           patch_size=shape['patch_size'], num_frames=shape['num_frames'],
                           tubelet_size=shape['tubelet_size'],
                           arch=dict(enc, depth=kw['encoder_depth'])),
        audio_encoder=dict(type='AudioViTEncoder', input_type='fbank',
                           spec_size=shape['spec_size'], patch_size=shape['audio_patch_size'],
                           arch=dict(enc, depth=kw['encoder_depth_audio'])),
        fusion_encoder=dict(type='HiCMAEFusionEncoder', embed_dim=shape['embed_dim'],
                            embed_dim_audio=shape['embed_dim'], depth=kw['encoder_fusion_depth'],
                            num_heads=shape['num_heads'], mlp_ratio=shape['mlp_ratio']),
        video_decoder=dict(dec, depth=kw['decoder_depth']),
        audio_decoder=dict(dec, depth=kw['decoder_depth_audio']),
        skip_indices=tuple(kw['return_intermediate_features']),
        loss_contrastive=dict(type='HierarchicalContrastiveLoss', **CONTRASTIVE))
    cfg.pop('data_preprocessor', None)
    if not dual:
        cfg.update(video_decoder_masker=None, audio_decoder_masker=None)
    return cfg


def build_holaframe(size: dict, dual: bool) -> nn.Module:
    from holaframe.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(holaframe_cfg(size, dual))
    model.init_weights()
    return model.train()


def make_batch(model: nn.Module, size: dict, batch_size: int) -> Dict[str, torch.Tensor]:
    """Random normalised inputs and one draw of the encoder masks (holaframe's maskers)."""
    shape = dict(FIXED_SHAPE, **size['shape'])
    g = torch.Generator().manual_seed(0)
    img = shape['img_size']
    video = torch.randn(batch_size, 3, shape['num_frames'], img, img, generator=g)
    audio = torch.randn(batch_size, 1, *shape['spec_size'], generator=g)
    torch.manual_seed(0)
    video_mask = model.video_masker(batch_size, model.video_encoder.grid_size, 'cpu')
    audio_mask = model.audio_masker(batch_size, model.audio_encoder.grid_size, 'cpu')
    return dict(video=video, audio=audio, video_mask=video_mask.reshape(batch_size, -1),
                audio_mask=audio_mask.reshape(batch_size, -1))


def reference_loss(model: nn.Module, batch: Dict[str, torch.Tensor], target_cfg: dict
                   ) -> torch.Tensor:
    """HiCMAE's pre-training loss: MSE on the masked tokens' normalised (frame-difference)
    targets for video and audio, plus the weighted hierarchical contrastive loss."""
    from holaframe.models.losses import audio_reconstruction_targets, video_reconstruction_targets
    vmask, amask = batch['video_mask'], batch['audio_mask']
    with torch.no_grad():
        labels = video_reconstruction_targets(batch['video'], select=vmask,
                                              **target_cfg['video'])
        labels_audio = audio_reconstruction_targets(batch['audio'], select=amask,
                                                    **target_cfg['audio'])
    recon, recon_audio, logits_v, logits_a = model(batch['video'], vmask, batch['audio'], amask)
    loss = F.mse_loss(recon, labels) + F.mse_loss(recon_audio, labels_audio)
    classes = torch.arange(batch['video'].shape[0])
    contrastive = sum(0.5 * (F.cross_entropy(lv, classes) + F.cross_entropy(la, classes))
                      for lv, la in zip(logits_v, logits_a))
    return loss + CONTRASTIVE['loss_weight'] * contrastive


def holaframe_loss(model: nn.Module, batch: Dict[str, torch.Tensor]) -> torch.Tensor:
    return sum(model(dict(batch), mode='loss').values())


class _LossForward(nn.Module):
    """Tensors in, loss out, so that fvcore can trace one loss forward."""

    def __init__(self, model: nn.Module, loss_fn: Callable) -> None:
        super().__init__()
        self.model, self.loss_fn = model, loss_fn

    def forward(self, video, audio, video_mask, audio_mask):
        return self.loss_fn(self.model, dict(video=video, audio=audio, video_mask=video_mask,
                                             audio_mask=audio_mask))


def forward_gflops(model: nn.Module, loss_fn: Callable, batch: Dict[str, torch.Tensor]) -> float:
    import logging
    logging.getLogger('fvcore').setLevel(logging.ERROR)
    inputs = (batch['video'], batch['audio'], batch['video_mask'], batch['audio_mask'])
    return measure.forward_flops(_LossForward(model, loss_fn), inputs)['flops'] / 1e9


class Stepper:
    """Training steps of one model: ``loss_fn(model, batch)``, backward, AdamW."""

    def __init__(self, model: nn.Module, loss_fn: Callable, batch: Dict[str, torch.Tensor],
                 fused: bool) -> None:
        self.model, self.loss_fn, self.batch = model, loss_fn, batch
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95),
                                           weight_decay=0.05, fused=fused or None)
        self.wall: List[float] = []
        self.cpu: List[float] = []

    def step(self) -> None:
        loss = self.loss_fn(self.model, self.batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

    def timed(self, record: bool) -> None:
        t = measure.time_calls(self.step, steps=1, warmup=0)
        if record:
            self.wall += t['wall_s']
            self.cpu += t['cpu_s']


def run_rounds(steppers: Dict[str, Stepper], steps: int, warmup: int) -> None:
    """``warmup + steps`` rounds; each round steps every model once, the order rotating."""
    names = list(steppers)
    for i in range(warmup + steps):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            steppers[name].timed(record=i >= warmup)


def paired_ratio(num: List[float], den: List[float]) -> float:
    """Median over rounds of ``num[i] / den[i]``."""
    return statistics.median(a / b for a, b in zip(num, den))


def compare(steppers: Dict[str, Stepper]) -> Dict[str, dict]:
    """The two comparisons, by wall and by CPU time, each against its target."""
    ref, plain, dual = (steppers[v] for v in VARIANTS)
    no_dual = dict(ratio=paired_ratio(plain.wall, ref.wall),
                   ratio_cpu=paired_ratio(plain.cpu, ref.cpu),
                   ratio_of_medians=statistics.median(plain.wall) / statistics.median(ref.wall),
                   target=f'holaframe / reference <= {TARGET_RATIO_NO_DUAL:g}')
    no_dual.update(met=no_dual['ratio'] <= TARGET_RATIO_NO_DUAL,
                   met_cpu=no_dual['ratio_cpu'] <= TARGET_RATIO_NO_DUAL)
    with_dual = dict(speedup=paired_ratio(ref.wall, dual.wall),
                     speedup_cpu=paired_ratio(ref.cpu, dual.cpu),
                     speedup_of_medians=statistics.median(ref.wall) / statistics.median(dual.wall),
                     target=f'reference / holaframe-dual >= {TARGET_SPEEDUP_DUAL:g}x')
    with_dual.update(ratio=1.0 / with_dual['speedup'], ratio_cpu=1.0 / with_dual['speedup_cpu'],
                     met=with_dual['speedup'] >= TARGET_SPEEDUP_DUAL,
                     met_cpu=with_dual['speedup_cpu'] >= TARGET_SPEEDUP_DUAL)
    return dict(no_dual_masking=no_dual, dual_masking=with_dual)


def _met(flag: bool) -> str:
    return 'met' if flag else 'not met'


def check_params(rows: Dict[str, dict]) -> Optional[str]:
    """None when every model has the reference's parameter count within the tolerance."""
    ref = rows['reference']['params']
    for name in VARIANTS[1:]:
        diff = abs(rows[name]['params'] - ref) / ref
        if diff > PARAM_TOLERANCE:
            return (f'{name} has {rows[name]["params"]:,} parameters, the reference {ref:,} '
                    f'({100 * diff:.2f} % apart, more than {100 * PARAM_TOLERANCE:g} %): the '
                    'models are not the same size, no ratio is reported')
    return None


# ---------------------------------------------------------------------------------- command
def parse_args(argv=None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--hicmae-dir', default=os.environ.get('HOLAFRAME_HICMAE_DIR'),
                        help=f'a clone of {HICMAE_URL} (default: $HOLAFRAME_HICMAE_DIR)')
    parser.add_argument('--fetch', action='store_true',
                        help='git-clone the reference into a temporary folder for this run')
    parser.add_argument('--size', default='small', choices=list(SIZES),
                        help='small = HiCMAE dim 384 (default), base = HiCMAE-B (the paper), '
                        'tiny = a 2-block check')
    parser.add_argument('--batch-size', type=int, default=None,
                        help='clips per step (default: small 2, base 8, tiny 1)')
    parser.add_argument('--steps', type=int, default=5, help='timed rounds')
    parser.add_argument('--warmup', type=int, default=1, help='untimed rounds first')
    parser.add_argument('--threads', type=int, default=2, help='torch CPU threads')
    parser.add_argument('--no-fused-adamw', action='store_true',
                        help="torch's default AdamW instead of fused=True, for all models")
    parser.add_argument('--no-flops', action='store_true', help='skip the fvcore FLOP count')
    parser.add_argument('--out', default=osp.join(REPO, 'benchmarks', 'results',
                                                  'bench_hicmae_step.json'))
    return parser.parse_args(argv)


def _print_table(rows: Dict[str, dict]) -> None:
    header = (f'{"model":<16}{"params":>14}{"fwd GFLOP":>11}{"median (s)":>12}{"min (s)":>10}'
              f'{"CPU (s)":>10}')
    print(header)
    print('-' * len(header))
    for name, r in rows.items():
        flops = '-' if r['forward_gflops'] is None else f'{r["forward_gflops"]:.2f}'
        med = r.get('median_step_s')
        print(f'{name:<16}{r["params"]:>14,}{flops:>11}'
              + ('' if med is None else f'{med:>12.3f}{r["min_step_s"]:>10.3f}'
                 f'{r["median_cpu_s"]:>10.3f}'))


def main(argv=None) -> int:
    """Entry point; 2 without the reference code, 3 when the sizes differ."""
    args = parse_args(argv)
    problem = reference_problem(args)
    if problem:
        print(f'bench_hicmae_step.py: {problem}', file=sys.stderr)
        return 2
    size = copy.deepcopy(SIZES[args.size])
    batch_size = args.batch_size or size['batch']
    sys.path.insert(0, REPO)
    from holaframe.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    torch.set_num_threads(args.threads)
    load_before, cpu0 = measure.loadavg(), time.process_time()
    from holaframe.testing.reference_code import ensure_timm
    timm_version = ensure_timm()
    try:
        with reference_dir(args) as (hicmae_dir, how):
            module = import_reference(hicmae_dir)
            commit = git_commit(hicmae_dir)
            models = {'reference': build_reference(module, size),
                      'holaframe': build_holaframe(size, dual=False),
                      'holaframe-dual': build_holaframe(size, dual=True)}
    except ReferenceUnavailable as exc:
        print(f'bench_hicmae_step.py: {exc}', file=sys.stderr)
        return 2
    hola = models['holaframe']
    batch = make_batch(hola, size, batch_size)
    target_cfg = dict(video=dict(hola.video_target_cfg), audio=dict(hola.audio_target_cfg))

    def ref_loss(model, b):
        return reference_loss(model, b, target_cfg)

    loss_fns = {'reference': ref_loss, 'holaframe': holaframe_loss,
                'holaframe-dual': holaframe_loss}
    rows = {name: dict(params=sum(p.numel() for p in m.parameters()), forward_gflops=None)
            for name, m in models.items()}
    if not args.no_flops:
        for name, m in models.items():
            rows[name]['forward_gflops'] = forward_gflops(m, loss_fns[name], batch)
    where = f'fetched from {HICMAE_URL}' if how == 'fetch' else hicmae_dir
    print(f'size {args.size} ({size["constructor"]}, {size["kwargs"]}), batch {batch_size}, '
          f'{torch.get_num_threads()} threads, reference {where} (commit '
          f'{commit or "unknown"}), timm {timm_version}')
    _print_table(rows)
    problem = check_params(rows)
    if problem:
        print(f'bench_hicmae_step.py: {problem}', file=sys.stderr)
        return 3
    fused = not args.no_fused_adamw
    steppers = {name: Stepper(m, loss_fns[name], batch, fused) for name, m in models.items()}
    run_rounds(steppers, args.steps, args.warmup)
    for name, s in steppers.items():
        rows[name].update(step_wall_s=s.wall, step_cpu_s=s.cpu,
                          median_step_s=statistics.median(s.wall), min_step_s=min(s.wall),
                          median_cpu_s=statistics.median(s.cpu))
    ratios = compare(steppers)
    _print_table(rows)
    nd, dm = ratios['no_dual_masking'], ratios['dual_masking']
    print(f'without dual masking: holaframe / reference = {nd["ratio"]:.3f} by wall time, '
          f'{nd["ratio_cpu"]:.3f} by CPU time; target <= {TARGET_RATIO_NO_DUAL:g}: '
          f'{_met(nd["met"])} by wall time, {_met(nd["met_cpu"])} by CPU time')
    print(f'with dual masking: reference / holaframe = {dm["speedup"]:.2f}x by wall time, '
          f'{dm["speedup_cpu"]:.2f}x by CPU time; target >= {TARGET_SPEEDUP_DUAL:g}x: '
          f'{_met(dm["met"])} by wall time, {_met(dm["met_cpu"])} by CPU time')
    load_after = measure.loadavg()
    print(f'load average {load_before} -> {load_after}')
    report = dict(
        benchmark='bench_hicmae_step', size=args.size, constructor=size['constructor'],
        constructor_kwargs={k: list(v) if isinstance(v, tuple) else v
                            for k, v in size['kwargs'].items()},
        shape=dict(FIXED_SHAPE, **size['shape']), batch_size=batch_size, steps=args.steps,
        warmup=args.warmup, threads=torch.get_num_threads(),
        optimizer='AdamW' + (' (fused=True)' if fused else ''),
        reference=dict(url=HICMAE_URL, source=how, dir=None if how == 'fetch' else hicmae_dir,
                       commit=commit, timm=timm_version),
        video_tokens=int(batch['video_mask'].shape[1]),
        video_visible=int((~batch['video_mask'][0]).sum()),
        audio_tokens=int(batch['audio_mask'].shape[1]),
        audio_visible=int((~batch['audio_mask'][0]).sum()),
        omp_wait_policy=os.environ.get('OMP_WAIT_POLICY', 'unset (OpenMP default)'),
        loadavg_before=load_before, loadavg_after=load_after,
        cpu_s=time.process_time() - cpu0, models=rows, **ratios,
        machine=measure.machine_info(),
        note=('ratio = median over rounds of the per-round ratio of wall step times; '
              'targets printed, not asserted'))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(report, f, indent=1)
    print(f'wrote {args.out}')
    return 0


def summarize(report: dict) -> List[Dict[str, str]]:
    """One row per model for the suite's summary (``benchmarks/run.py``)."""
    nd, dm = report['no_dual_masking'], report['dual_masking']
    target = {'reference': '',
              'holaframe': f"{nd['ratio']:.3f} / CPU {nd['ratio_cpu']:.3f} (<= "
                           f"{TARGET_RATIO_NO_DUAL:g}: {_met(nd['met'])} / {_met(nd['met_cpu'])})",
              'holaframe-dual': f"{dm['speedup']:.2f}x / CPU {dm['speedup_cpu']:.2f}x (>= "
                                f"{TARGET_SPEEDUP_DUAL:g}x: {_met(dm['met'])} / "
                                f"{_met(dm['met_cpu'])})"}
    rows = []
    for name, r in report['models'].items():
        flops = r['forward_gflops']
        rows.append({'model': name, 'size': report['size'], 'batch': str(report['batch_size']),
                     'params (M)': f"{r['params'] / 1e6:.2f}",
                     'fwd GFLOP': '-' if flops is None else f'{flops:.1f}',
                     'median step (s)': f"{r['median_step_s']:.3f}",
                     'vs reference': target[name]})
    return rows


if __name__ == '__main__':
    sys.exit(main())
