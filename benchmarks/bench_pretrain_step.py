#!/usr/bin/env python
"""AV-MAE pre-training step time with and without dual masking, and model FLOPs utilisation.

For each size (``base`` = ``configs/_base_/models/avmae_vit-base.py``, ``tiny`` =
``configs/_base_/models/avmae_vit-nano.py``) the same pre-trainer is built twice: with the
paper's dual masking (running cell 0.5 / random 0.5 decoder masks, Eq. (5)) and decoding every
encoder-masked token (HiCMAE). A training step = forward (``mode='loss'``) + backward + AdamW
step on random normalised inputs; the timed steps of the two variants are interleaved.
Reported per variant: median and minimum step time, speed-up of dual masking (median ratio),
forward FLOPs (fvcore, with a handle for ``scaled_dot_product_attention``, which fvcore
otherwise counts as 0), and

    MFU = 3 x forward FLOPs / step time / measured fp32 matmul FLOP/s

(fvcore counts one multiply-add as one "flop"; FLOPs here are 2 x that count, the same unit as
the matmul peak ``2 n^3 / t``; helpers in ``benchmarks/measure.py``). Timings on a shared or
busy machine are noisy: compare variants from the same run only.

Usage::

    python benchmarks/bench_pretrain_step.py                      # base + tiny on CPU
    python benchmarks/bench_pretrain_step.py --sizes tiny --steps 5
    python benchmarks/bench_pretrain_step.py --device cuda --batch-size base=32 tiny=64
"""

import argparse
import json
import os
import os.path as osp
import platform
import statistics
import sys
import time
from typing import Dict, List

import measure
import torch
from torch import nn

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODEL_CFGS = {
    'base': osp.join(REPO, 'configs', '_base_', 'models', 'avmae_vit-base.py'),
    'tiny': osp.join(REPO, 'configs', '_base_', 'models', 'avmae_vit-nano.py'),
}
DEFAULT_BATCH = {'base': 8, 'tiny': 4}


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def build_model(size: str, dual: bool, device: torch.device) -> nn.Module:
    """The pre-trainer of ``size`` with (``dual``) or without decoder masking."""
    from mmengine.config import Config

    from holaframe.registry import MODELS
    cfg = Config.fromfile(MODEL_CFGS[size]).model
    if not dual:
        cfg.video_decoder_masker = None
        cfg.audio_decoder_masker = None
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.to(device).train()


def make_inputs(model: nn.Module, batch_size: int, device: torch.device) -> Dict:
    venc = model.video_encoder
    frames = venc.num_frames
    h, w = venc.patch_embed.img_size
    spec = model.audio_encoder.patch_embed.spec_size
    g = torch.Generator().manual_seed(0)
    return dict(video=torch.randn(batch_size, 3, frames, h, w, generator=g).to(device),
                audio=torch.randn(batch_size, 1, *spec, generator=g).to(device))


class _LossOnly(nn.Module):
    """Tensor-in, tensor-out wrapper so fvcore can trace the loss forward."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, video: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        losses = self.model(dict(video=video, audio=audio), mode='loss')
        return sum(losses.values())


def forward_flops(model: nn.Module, inputs: Dict) -> float:
    """Forward FLOPs (2 x fvcore multiply-adds) of one loss forward."""
    import logging
    logging.getLogger('fvcore').setLevel(logging.ERROR)
    return measure.forward_flops(_LossOnly(model), (inputs['video'], inputs['audio']))['flops']


class _Stepper:
    """One training step (forward ``mode='loss'``, backward, AdamW) of one model, timed."""

    def __init__(self, model: nn.Module, inputs: Dict, device: torch.device,
                 fused: bool = True) -> None:
        self.model, self.inputs, self.device = model, inputs, device
        # fused=True: torch's single-kernel AdamW (CPU and CUDA); the default for-loop version
        # costs about a third of a base CPU step (99.6 M parameters).
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95),
                                           weight_decay=0.05, fused=fused or None)
        self.times: List[float] = []

    def step(self, record: bool) -> None:
        _sync(self.device)
        start = time.perf_counter()
        losses = self.model(self.inputs, mode='loss')
        loss = sum(losses.values())
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        _sync(self.device)
        if record:
            self.times.append(time.perf_counter() - start)


def parse_batch_sizes(items: List[str]) -> Dict[str, int]:
    sizes = dict(DEFAULT_BATCH)
    for item in items or []:
        if '=' not in item:
            raise ValueError(f'--batch-size expects SIZE=N, got {item!r}')
        key, value = item.split('=', 1)
        if key not in MODEL_CFGS:
            raise ValueError(f'--batch-size: unknown size {key!r} (choose {sorted(MODEL_CFGS)})')
        sizes[key] = int(value)
    return sizes


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', nargs='+', default=['base', 'tiny'], choices=list(MODEL_CFGS))
    parser.add_argument('--batch-size', nargs='*', default=[],
                        help='per-size batch, e.g. base=2 tiny=4 (defaults: base=8, tiny=4)')
    parser.add_argument('--steps', type=int, default=3, help='timed steps per variant')
    parser.add_argument('--warmup', type=int, default=1, help='untimed steps per variant')
    parser.add_argument('--device', default='cpu', help='cpu or cuda[:i]')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument('--no-fused-adamw', action='store_true',
                        help="use torch's default AdamW instead of fused=True")
    parser.add_argument('--out', default=osp.join(REPO, 'benchmarks', 'results',
                                                  'bench_pretrain_step.json'))
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, REPO)
    from holaframe.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == 'cuda':
        # Plain fp32 for both the peak and the model, so the MFU compares like with like.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    batch_sizes = parse_batch_sizes(args.batch_size)
    peak = measure.matmul_peak_flops(str(device), repeats=10)['wall']
    print(f'device {device}, torch threads {torch.get_num_threads()}, '
          f'measured fp32 matmul peak {peak / 1e9:.1f} GFLOP/s')
    results = []
    for size in args.sizes:
        steppers, rows = {}, {}
        for dual in (True, False):
            model = build_model(size, dual, device)
            inputs = make_inputs(model, batch_sizes[size], device)
            rows[dual] = dict(size=size, dual_masking=dual, batch_size=batch_sizes[size],
                              params=sum(p.numel() for p in model.parameters()),
                              forward_gflops=forward_flops(model, inputs) / 1e9)
            steppers[dual] = _Stepper(model, inputs, device, fused=not args.no_fused_adamw)
        # Interleave the two variants step by step, so that load changes on a shared machine
        # hit both alike.
        for i in range(args.warmup + args.steps):
            for dual in (True, False):
                steppers[dual].step(record=i >= args.warmup)
        for dual in (True, False):
            times = steppers[dual].times
            row = rows[dual]
            row.update(step_times_s=times, median_step_s=statistics.median(times),
                       min_step_s=min(times),
                       mfu=3 * row['forward_gflops'] * 1e9 / statistics.median(times) / peak)
            results.append(row)
        rows[True]['speedup_vs_all_tokens'] = (rows[False]['median_step_s'] /
                                               rows[True]['median_step_s'])
        rows[True]['speedup_vs_all_tokens_min'] = (rows[False]['min_step_s'] /
                                                   rows[True]['min_step_s'])
        rows[True]['flop_ratio_all_tokens_vs_dual'] = (rows[False]['forward_gflops'] /
                                                       rows[True]['forward_gflops'])
        del steppers
    header = (f'{"size":<6}{"decoder":<12}{"batch":>6}{"params(M)":>11}{"fwd GFLOP":>11}'
              f'{"median (s)":>12}{"min (s)":>10}{"MFU":>8}{"speed-up":>10}')
    print(header)
    print('-' * len(header))
    for r in results:
        speed = f'{r["speedup_vs_all_tokens"]:.2f}x' if r['dual_masking'] else '1.00x'
        print(f'{r["size"]:<6}{"dual mask" if r["dual_masking"] else "all tokens":<12}'
              f'{r["batch_size"]:>6}{r["params"] / 1e6:>11.2f}{r["forward_gflops"]:>11.2f}'
              f'{r["median_step_s"]:>12.3f}{r["min_step_s"]:>10.3f}{100 * r["mfu"]:>7.1f}%'
              f'{speed:>10}')
    report = dict(
        benchmark='bench_pretrain_step', device=str(device),
        device_name=(torch.cuda.get_device_name(device) if device.type == 'cuda'
                     else platform.processor() or platform.machine()),
        torch=torch.__version__, threads=torch.get_num_threads(), steps=args.steps,
        warmup=args.warmup, matmul_peak_flops=peak,
        omp_wait_policy=os.environ.get('OMP_WAIT_POLICY', 'unset (OpenMP default)'),
        load_average=measure.loadavg(),
        optimizer='AdamW' + ('' if args.no_fused_adamw else ' (fused=True)'),
        note=('MFU = 3 x forward FLOPs / median step time / measured fp32 matmul FLOP/s; '
              'timings on a shared machine are noisy'),
        results=results)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(report, f, indent=2)
    print(f'wrote {args.out}')
    return 0


def summarize(report: dict) -> List[Dict[str, str]]:
    """One row per size and decoder variant for the suite's summary (``benchmarks/run.py``)."""
    rows = []
    for r in report['results']:
        speed = f"{r['speedup_vs_all_tokens']:.2f}x" if r['dual_masking'] else '1.00x'
        rows.append({
            'size': r['size'], 'decoder': 'dual mask' if r['dual_masking'] else 'all tokens',
            'batch': str(r['batch_size']), 'fwd GFLOP': f"{r['forward_gflops']:.1f}",
            'median step (s)': f"{r['median_step_s']:.3f}", 'MFU': f"{100 * r['mfu']:.1f}%",
            'speed-up': speed
        })
    return rows


if __name__ == '__main__':
    sys.exit(main())
