"""Training-step benchmark of the HOLA detector on the CPU.

For each size (``tiny`` = HiCMAE-T encoders, ``base`` = HiCMAE-B encoders; both with the paper's
16 frames at 224 px, MFCC audio and the full neck/ICI/LGCF/refiner/head) it measures, at a fixed
batch size, in a fresh subprocess:

* samples/s of a full training step (forward with ``mode='loss'``, backward, AdamW step);
* peak resident memory of the process (``ru_maxrss``) and its growth over the step;
* model FLOPs utilisation: ``MFU = 3 * F_fwd / step_time / P``, where ``F_fwd`` is the forward
  FLOPs of one batch counted with fvcore (fvcore counts one multiply-add as one "flop", so
  ``F_fwd = 2 * fvcore count``; ``scaled_dot_product_attention`` is counted by
  ``holaframe.utils.flops.sdpa_flop_jit``, which fvcore otherwise reports as zero), ``3 *``
  approximates forward + backward, and ``P`` is the fp32 matmul throughput of this machine
  measured in the same run (a 2048x2048 ``torch.mm``, ``2 n^3`` FLOPs per product); the
  helpers are in ``benchmarks/measure.py``.

Usage::

    python benchmarks/bench_train_step.py --sizes tiny base --batch-size 2 --steps 3

Results are printed and written as JSON (default ``benchmarks/results/bench_train_step.json``).
The numbers are noisy on a shared machine; run it alone for reportable figures.
"""

import argparse
import json
import os
import os.path as osp
import platform
import statistics
import subprocess
import sys
import time
from typing import Dict, List

import measure
import torch


def model_cfg(size: str) -> dict:
    """The paper's detector (16 frames at 224 px, MFCC audio) with encoders of ``size``."""
    dims = dict(tiny=(256, 4), small=(384, 6), base=(512, 8))
    if size not in dims:
        raise ValueError(f'bench_train_step.py: unknown size {size!r}; use {sorted(dims)}')
    dim, heads = dims[size]
    frames, img, seg = 16, 224, 16
    video_tokens = (frames // 2) * (img // 16) ** 2
    return dict(
        type='HOLADetector',
        data_preprocessor=dict(type='AVDataPreprocessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375]),
        video_encoder=dict(type='VideoViTEncoder', arch=size, img_size=img, num_frames=frames),
        audio_encoder=dict(type='AudioViTEncoder', arch=size, input_type='mfcc',
                           num_segments=seg, num_coeffs=32),
        fusion_encoder=dict(type='HiCMAEFusionEncoder', embed_dim=dim, depth=2, num_heads=heads),
        neck=dict(type='TemporalAlignmentNeck', in_channels_video=dim, in_channels_audio=dim,
                  out_channels=dim, in_length_video=video_tokens, in_length_audio=seg,
                  out_length=16),
        interaction=dict(type='IterativeCrossModalInteraction', dim=dim, num_heads=heads),
        fusion=dict(type='LocalGlobalContextualFusion', dim=dim, num_layers=2, num_heads=heads),
        refiner=dict(type='PyramidRefiner', dim=dim),
        head=dict(type='ClsHead', in_channels=dim))


def forward_flops(model: torch.nn.Module, inputs: Dict[str, torch.Tensor]) -> Dict[str, float]:
    """Forward FLOPs of one batch (``2 *`` fvcore's multiply-add count) and the raw count."""

    class _Wrap(torch.nn.Module):

        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, video, audio):
            return self.m(dict(video=video, audio=audio), mode='tensor')

    res = measure.forward_flops(_Wrap(model), (inputs['video'], inputs['audio']))
    return dict(fvcore_macs=res['fvcore_macs'], forward_flops=res['flops'])


def run_child(size: str, batch_size: int, steps: int, warmup: int) -> dict:
    """Measure one size in this process."""
    import holaframe.models  # noqa: F401  (registers the components)
    from holaframe.registry import MODELS
    from holaframe.structures import AVDataSample

    torch.manual_seed(0)
    model = MODELS.build(model_cfg(size))
    model.train()
    params = sum(p.numel() for p in model.parameters())
    data = dict(
        inputs=dict(video=[torch.randint(0, 256, (3, 16, 224, 224), dtype=torch.uint8)
                           for _ in range(batch_size)],
                    audio=[torch.randn(16, 32) for _ in range(batch_size)]),
        data_samples=[AVDataSample().set_gt_label(i % 2) for i in range(batch_size)])
    batch = model.data_preprocessor(data, True)
    model.eval()
    flops = forward_flops(model, batch['inputs'])
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1.5e-4, weight_decay=0.02)
    peak_matmul = measure.matmul_peak_flops()['wall']
    rss_before = measure.peak_rss_mib()
    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        losses = model(**batch, mode='loss')
        loss = sum(losses.values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    peak_matmul = max(peak_matmul, measure.matmul_peak_flops()['wall'])
    step = statistics.median(times)
    train_flops = 3 * flops['forward_flops']
    return dict(
        size=size, batch_size=batch_size, params=params, steps=steps, warmup=warmup,
        step_time_s_median=step, step_times_s=times, samples_per_s=batch_size / step,
        forward_flops_per_batch=flops['forward_flops'], fvcore_macs_per_batch=flops['fvcore_macs'],
        train_flops_per_step=train_flops, achieved_flops_per_s=train_flops / step,
        matmul_fp32_flops_per_s=peak_matmul, mfu=train_flops / step / peak_matmul,
        peak_rss_mib=measure.peak_rss_mib(),
        rss_before_steps_mib=rss_before, threads=torch.get_num_threads())


def parse_args(argv=None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description='HOLA training-step benchmark (CPU).')
    parser.add_argument('--sizes', nargs='+', default=['tiny', 'base'])
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--steps', type=int, default=3, help='measured steps')
    parser.add_argument('--warmup', type=int, default=1, help='unmeasured first steps')
    parser.add_argument('--threads', type=int, default=None, help='torch threads')
    parser.add_argument('--out', default=osp.join('benchmarks', 'results',
                                                  'bench_train_step.json'))
    parser.add_argument('--child', default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """Run every size in its own subprocess (separate peak-memory readings)."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.child:
        print(json.dumps(run_child(args.child, args.batch_size, args.steps, args.warmup)))
        return
    results = []
    for size in args.sizes:
        cmd = [sys.executable, __file__, '--child', size, '--batch-size', str(args.batch_size),
               '--steps', str(args.steps), '--warmup', str(args.warmup)]
        if args.threads:
            cmd += ['--threads', str(args.threads)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f'bench_train_step.py: size {size} failed:\n{proc.stderr}')
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(res)
        gflops = res['forward_flops_per_batch'] / 1e9
        print(f"{size}: params {res['params'] / 1e6:.1f} M, step {res['step_time_s_median']:.2f}"
              f" s, {res['samples_per_s']:.2f} samples/s, fwd {gflops:.1f} GFLOP/batch, "
              f"matmul peak {res['matmul_fp32_flops_per_s'] / 1e9:.1f} GFLOP/s, "
              f"MFU {100 * res['mfu']:.1f}%, peak RSS {res['peak_rss_mib']:.0f} MiB")
    out = dict(benchmark='bench_train_step', torch=torch.__version__,
               machine=platform.machine(), cpu_count=os.cpu_count(),
               load_average=measure.loadavg(), results=results)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(out, f, indent=2)
    print(f'wrote {args.out}')


def summarize(report: dict) -> List[Dict[str, str]]:
    """One row per size for the suite's markdown summary (``benchmarks/run.py``)."""
    return [{
        'size': r['size'], 'batch': str(r['batch_size']), 'params (M)': f"{r['params'] / 1e6:.1f}",
        'step (s)': f"{r['step_time_s_median']:.2f}", 'samples/s': f"{r['samples_per_s']:.2f}",
        'MFU': f"{100 * r['mfu']:.1f}%", 'peak RSS (MiB)': f"{r['peak_rss_mib']:.0f}"
    } for r in report['results']]


if __name__ == '__main__':
    main()
