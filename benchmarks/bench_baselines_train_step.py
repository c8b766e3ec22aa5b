"""Training-step MFU of the two largest Table 1 baselines at standard size next to HOLA's.

Models (each in a fresh subprocess, batch 2, the inputs of their AV-Deepfake1M++ configs):

* ``hola-base``: the HOLA detector with HiCMAE-B encoders, 16 frames at 224 px and MFCC audio
  (the same model as ``bench_train_step.py --sizes base``);
* ``timesformer``: TimeSformer ViT-B/16 with divided space-time attention on 16 frames at
  224 px (``configs/baselines/timesformer-base_8xb8-30e_avdf1mpp.py``, 121.2 M parameters);
* ``cnn14``: PANNs CNN14 on a 1024-frame, 64-bin filterbank
  (``configs/baselines/panns-cnn14_8xb8-30e_avdf1mpp.py``, 79.7 M parameters).

Per model: step time of a full training step (forward with ``mode='loss'``, backward, AdamW),
samples/s, forward FLOPs (``2 *`` fvcore's multiply-adds, attention included) and
``MFU = 3 * F_fwd / step_time / P`` with ``P`` the fp32 matmul throughput measured in the same
process (``benchmarks/measure.py``, as ``bench_train_step.py``).

Usage::

    python benchmarks/bench_baselines_train_step.py [--models hola-base timesformer cnn14] \
        [--batch-size 2] [--steps 3] [--warmup 1]
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

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(HERE)
CONFIGS = {
    'timesformer': 'configs/baselines/timesformer-base_8xb8-30e_avdf1mpp.py',
    'cnn14': 'configs/baselines/panns-cnn14_8xb8-30e_avdf1mpp.py',
}
MODELS_ = ('hola-base', 'timesformer', 'cnn14')


def build(name: str):
    """The model and one sample's ``(video, audio)`` shapes."""
    from mmengine.config import Config

    import holaframe.models  # noqa: F401  (registers the components)
    from holaframe.registry import MODELS
    if name == 'hola-base':
        from bench_train_step import model_cfg
        return MODELS.build(model_cfg('base')), (3, 16, 224, 224), (16, 32)
    if name not in CONFIGS:
        raise ValueError(f'bench_baselines_train_step.py: unknown model {name!r}; use '
                         f'{list(MODELS_)}')
    cfg = Config.fromfile(osp.join(REPO, CONFIGS[name]))
    model = MODELS.build(cfg.model)
    if cfg.model.modality == 'audio':
        return model, (3, 1, 16, 16), (1, 1024, cfg.model.backbone.in_channels)
    return model, (3, 16, 224, 224), (16, 32)


def run_child(name: str, batch_size: int, steps: int, warmup: int) -> dict:
    """Measure one model in this process."""
    from holaframe.structures import AVDataSample

    torch.manual_seed(0)
    model, vshape, ashape = build(name)
    params = sum(p.numel() for p in model.parameters())
    data = dict(
        inputs=dict(video=[torch.randint(0, 256, vshape, dtype=torch.uint8)
                           for _ in range(batch_size)],
                    audio=[torch.randn(ashape) for _ in range(batch_size)]),
        data_samples=[AVDataSample().set_gt_label(i % 2) for i in range(batch_size)])
    batch = model.data_preprocessor(data, True)

    class _Wrap(torch.nn.Module):

        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, video, audio):
            return self.m(dict(video=video, audio=audio), mode='tensor')

    model.eval()
    flops = measure.forward_flops(_Wrap(model), (batch['inputs']['video'],
                                                 batch['inputs']['audio']))['flops']
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1.5e-4, weight_decay=0.02)
    peak = measure.matmul_peak_flops()['wall']
    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        loss = sum(model(**batch, mode='loss').values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    peak = max(peak, measure.matmul_peak_flops()['wall'])
    step = statistics.median(times)
    return dict(model=name, batch_size=batch_size, params=params, steps=steps, warmup=warmup,
                step_time_s_median=step, step_times_s=times, samples_per_s=batch_size / step,
                forward_flops_per_batch=flops, train_flops_per_step=3 * flops,
                matmul_fp32_flops_per_s=peak, mfu=3 * flops / step / peak,
                peak_rss_mib=measure.peak_rss_mib(), threads=torch.get_num_threads(),
                loadavg=measure.loadavg())


def parse_args(argv=None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description='Table 1 baselines vs HOLA: training-step MFU')
    parser.add_argument('--models', nargs='+', default=list(MODELS_), choices=MODELS_)
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--steps', type=int, default=3, help='measured steps')
    parser.add_argument('--warmup', type=int, default=1, help='unmeasured first steps')
    parser.add_argument('--out', default=osp.join('benchmarks', 'results',
                                                  'bench_baselines_train_step.json'))
    parser.add_argument('--child', default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """Run every model in its own subprocess."""
    args = parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args.child, args.batch_size, args.steps, args.warmup)))
        return
    results = []
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(p for p in (REPO, HERE, env.get('PYTHONPATH')) if p)
    for name in args.models:
        cmd = [sys.executable, __file__, '--child', name, '--batch-size', str(args.batch_size),
               '--steps', str(args.steps), '--warmup', str(args.warmup)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO,
                              env=env)
        if proc.returncode != 0:
            raise RuntimeError(f'bench_baselines_train_step.py: {name} failed:\n{proc.stderr}')
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(res)
        print(f"{name}: params {res['params'] / 1e6:.1f} M, step {res['step_time_s_median']:.2f}"
              f" s, {res['samples_per_s']:.2f} samples/s, fwd "
              f"{res['forward_flops_per_batch'] / 1e9:.1f} GFLOP/batch, MFU "
              f"{100 * res['mfu']:.1f}%, load {res['loadavg']}", flush=True)
    out = dict(benchmark='bench_baselines_train_step', torch=torch.__version__,
               machine=platform.machine(), cpu_count=os.cpu_count(),
               load_average=measure.loadavg(), results=results)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(out, f, indent=2)
    print(f'wrote {args.out}')


def summarize(report: dict) -> List[Dict[str, str]]:
    """One row per model for the suite's markdown summary (``benchmarks/run.py``)."""
    return [{
        'model': r['model'], 'batch': str(r['batch_size']),
        'params (M)': f"{r['params'] / 1e6:.1f}", 'step (s)': f"{r['step_time_s_median']:.2f}",
        'samples/s': f"{r['samples_per_s']:.2f}",
        'fwd GFLOP/batch': f"{r['forward_flops_per_batch'] / 1e9:.1f}",
        'MFU': f"{100 * r['mfu']:.1f}%", 'peak RSS (MiB)': f"{r['peak_rss_mib']:.0f}"
    } for r in report['results']]


if __name__ == '__main__':
    main()
