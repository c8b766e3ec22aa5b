"""Profile one training step of the HOLA detector on the CPU (where the time goes, and MFU).

Complements ``bench_train_step.py`` (the headline samples/s and MFU): this script breaks a step
of the detector built from a model config (default: the paper's base model,
``configs/_base_/models/hola_vit-base.py``: HiCMAE-B encoders, 16 frames at 224 px, MFCC audio)
down into

* fvcore forward FLOPs per top-level module (attention counted with
  :func:`holaframe.utils.flops.sdpa_flop_jit`; ``FLOPs = 2 *`` fvcore's multiply-adds). The
  count is traced on one sample and multiplied by the batch size (every op here is per sample,
  so this is exact) to halve the cost of the trace;
* wall time **and** process CPU time (all threads) per step;
* with ``--profile``: :mod:`torch.profiler` self time of one step grouped into GEMM,
  flash attention, convolution, normalisation, activation, copies/element-wise and optimizer.

Two utilisation figures:

* ``mfu = 3 * FLOPs_fwd / step_wall / P``, ``P`` = best fp32 ``torch.mm`` (2048^3) throughput
  measured before and after the steps in the same process (as ``bench_train_step.py``);
* ``mfu_cpu_time = (3 * FLOPs_fwd / step_cpu) / (2 * 2048^3 / mm_cpu)``: the same ratio with
  CPU seconds instead of wall seconds for both the step and the reference product. On a
  machine shared with other jobs the wall figure measures the share of the cores this process
  got; the CPU-time figure estimates the MFU the code reaches with the cores to itself. Run with
  ``OMP_WAIT_POLICY=PASSIVE`` (the default this script sets unless the variable is already set)
  so that waiting OpenMP threads sleep instead of spinning (spinning counts as CPU time and, on
  a shared machine, stalls the step; see ``docs/performance.md``).

Usage::

    python benchmarks/profile_train_step.py --threads 2 --steps 2

Prints a summary and writes JSON (default ``benchmarks/results/profile_train_step.json``).
"""

import argparse
import json
import os
import os.path as osp
import platform
import time
from collections import defaultdict
from typing import Dict, List

# Before torch loads OpenMP: waiting threads sleep instead of spinning (see docs/performance.md;
# set OMP_WAIT_POLICY=ACTIVE explicitly to measure the spinning default).
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
import measure  # noqa: E402
import torch  # noqa: E402

DEFAULT_CONFIG = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', '_base_',
                          'models', 'hola_vit-base.py')

#: Profiler op-name substrings -> category (first match wins, checked in this order).
CATEGORIES = (
    ('attention', ('scaled_dot_product', 'flash_attention')),
    ('gemm', ('aten::mm', 'aten::addmm', 'aten::bmm', 'aten::baddbmm', 'aten::addbmm')),
    ('conv', ('conv', 'mkldnn_convolution', 'im2col', 'col2im')),
    ('norm', ('layer_norm', 'batch_norm')),
    ('activation', ('gelu', 'softmax', 'relu', 'sigmoid', 'tanh')),
    ('optimizer', ('adam', '_foreach', 'lerp', 'addcdiv', 'addcmul', 'sqrt')),
    ('copy/elementwise', ('copy_', 'cat', 'add', 'mul', 'sub', 'div', 'fill_', 'zero_', 'sum',
                          'mean', 'clone', 'contiguous', 'where', 'bernoulli', 'index',
                          'masked', 'stack', 'neg', 'pow')),
)


def categorise(name: str) -> str:
    """Category of a profiler op name (see :data:`CATEGORIES`)."""
    for cat, keys in CATEGORIES:
        if any(k in name for k in keys):
            return cat
    return 'other'


def _cpu_seconds() -> float:
    """CPU seconds of this process, all threads (``CLOCK_PROCESS_CPUTIME_ID``, ns resolution)."""
    return time.process_time()


def build(config: str, batch_size: int):
    """Detector from ``config`` (a model config file or a full config) and one packed batch."""
    from mmengine.config import Config

    import holaframe.models  # noqa: F401  (registers the components)
    from holaframe.registry import MODELS
    from holaframe.structures import AVDataSample

    cfg = Config.fromfile(config)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    venc, aenc = model.video_encoder, model.audio_encoder
    frames = venc.num_frames
    img = venc.patch_embed.img_size
    pe = aenc.patch_embed
    if hasattr(pe, 'num_coeffs'):  # MFCC tokens (B, T, F)
        audio_shape = (pe.num_segments, pe.num_coeffs)
    else:  # fbank patches (B, C, time, mel)
        audio_shape = (pe.in_channels, ) + tuple(pe.spec_size)
    data = dict(
        inputs=dict(video=[torch.randint(0, 256, (3, frames) + tuple(img), dtype=torch.uint8)
                           for _ in range(batch_size)],
                    audio=[torch.randn(*audio_shape) for _ in range(batch_size)]),
        data_samples=[AVDataSample().set_gt_label(i % 2) for i in range(batch_size)])
    batch = model.data_preprocessor(data, True)
    return model, batch


def forward_flops(model: torch.nn.Module, inputs: Dict[str, torch.Tensor]) -> Dict[str, float]:
    """Forward FLOPs (``2 *`` fvcore multiply-adds) in total and per top-level child."""

    class _Wrap(torch.nn.Module):

        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, video, audio):
            return self.m(dict(video=video, audio=audio), mode='tensor')

    was_training = model.training
    model.eval()
    batch = inputs['video'].shape[0]
    analysis = measure.forward_flops(_Wrap(model), (inputs['video'][:1],
                                                    inputs['audio'][:1]))['analysis']
    by_module = analysis.by_module()
    per_child = {name: 2 * batch * float(by_module.get('m.' + name, 0))
                 for name, _ in model.named_children()}
    by_op = {k: 2 * batch * float(v) for k, v in analysis.by_operator().items()}
    total = 2 * batch * float(analysis.total())
    model.train(was_training)
    return dict(total=total, per_module={k: v for k, v in per_child.items() if v}, by_op=by_op)


def train_step(model, batch, optimizer) -> None:
    """One forward (``mode='loss'``), backward and AdamW step."""
    losses = model(**batch, mode='loss')
    loss = sum(losses.values())
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    with torch.profiler.record_function('optimizer_step'):
        optimizer.step()


def profile_step(model, batch, optimizer) -> Dict[str, object]:
    """Self time of every op of one step (profiler wall clock), grouped by category."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        train_step(model, batch, optimizer)
    cats: Dict[str, float] = defaultdict(float)
    ops: List[dict] = []
    for evt in prof.key_averages():
        self_s = evt.self_cpu_time_total / 1e6
        if evt.key == 'optimizer_step':
            continue
        cats[categorise(evt.key)] += self_s
        ops.append(dict(op=evt.key, self_s=self_s, calls=evt.count))
    ops.sort(key=lambda d: -d['self_s'])
    total = sum(cats.values())
    return dict(total_self_s=total, categories={k: dict(self_s=v, share=v / total)
                                                for k, v in sorted(cats.items(),
                                                                   key=lambda kv: -kv[1])},
                top_ops=ops[:25])


def parse_args(argv=None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description='Profile a HOLA training step on the CPU.')
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='model config')
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--threads', type=int, default=None, help='torch threads')
    parser.add_argument('--steps', type=int, default=2, help='timed steps')
    parser.add_argument('--warmup', type=int, default=1, help='untimed first steps')
    parser.add_argument('--profile', action='store_true', help='also profile one step')
    parser.add_argument('--no-flops', action='store_true', help='skip the fvcore count')
    parser.add_argument('--out', default=osp.join('benchmarks', 'results',
                                                  'profile_train_step.json'))
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    """Run and report."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    model, batch = build(args.config, args.batch_size)
    params = sum(p.numel() for p in model.parameters())
    flops = None if args.no_flops else forward_flops(model, batch['inputs'])
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1.5e-4, weight_decay=0.02)
    print(f'built {params / 1e6:.1f} M params; forward FLOPs counted', flush=True)
    peaks = [measure.matmul_peak_flops()]
    walls, cpus = [], []
    for i in range(args.warmup + args.steps):
        cpu0, wall0 = _cpu_seconds(), time.perf_counter()
        train_step(model, batch, optimizer)
        wall, cpu = time.perf_counter() - wall0, _cpu_seconds() - cpu0
        print(f'step {i}: wall {wall:.2f} s, cpu {cpu:.2f} s', flush=True)
        if i >= args.warmup:
            walls.append(wall)
            cpus.append(cpu)
    peaks.append(measure.matmul_peak_flops())
    peak = max(p['wall'] for p in peaks)
    peak_cpu = max(p['cpu'] for p in peaks)
    res = dict(config=osp.relpath(args.config), batch_size=args.batch_size, threads=threads,
               omp_wait_policy=os.environ.get('OMP_WAIT_POLICY'), params=params,
               step_wall_s=walls, step_cpu_s=cpus,
               step_wall_s_median=sorted(walls)[len(walls) // 2],
               step_cpu_s_median=sorted(cpus)[len(cpus) // 2],
               matmul_fp32_flops_per_s=peak, matmul_fp32_flops_per_cpu_s=peak_cpu,
               loadavg_1min=(measure.loadavg() or [0.0])[0])
    if flops is not None:
        train_flops = 3 * flops['total']
        res.update(forward_flops=flops['total'], forward_flops_per_module=flops['per_module'],
                   forward_flops_by_op=flops['by_op'], train_flops_per_step=train_flops,
                   mfu=train_flops / res['step_wall_s_median'] / peak,
                   mfu_cpu_time=train_flops / res['step_cpu_s_median'] / peak_cpu)
    if args.profile:
        res['profile'] = profile_step(model, batch, optimizer)

    print(f"{res['config']}: batch {args.batch_size}, {threads} threads, "
          f"{params / 1e6:.1f} M params, load {res['loadavg_1min']:.1f}")
    print(f"  step wall {res['step_wall_s_median']:.2f} s, cpu {res['step_cpu_s_median']:.2f} s"
          f", matmul peak {peak / 1e9:.1f} GFLOP/s ({peak_cpu / 1e9:.1f} per CPU second)")
    if flops is not None:
        print(f"  forward {flops['total'] / 1e9:.1f} GFLOP/batch, MFU {100 * res['mfu']:.1f}% "
              f"(wall), {100 * res['mfu_cpu_time']:.1f}% (CPU time)")
        for name, f in sorted(flops['per_module'].items(), key=lambda kv: -kv[1]):
            print(f'    {name:24s} {f / 1e9:8.2f} GFLOP ({100 * f / flops["total"]:.1f}%)')
    if args.profile:
        prof = res['profile']
        print(f"  profiled step: {prof['total_self_s']:.2f} s of op self time")
        for cat, d in prof['categories'].items():
            print(f"    {cat:18s} {d['self_s']:7.2f} s ({100 * d['share']:.1f}%)")
        for op in prof['top_ops'][:12]:
            print(f"      {op['op'][:60]:60s} {op['self_s']:7.2f} s x{op['calls']}")
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    out = dict(benchmark='profile_train_step', torch=torch.__version__,
               machine=platform.machine(), cpu_count=os.cpu_count(), result=res)
    with open(args.out, 'w') as f:
        json.dump(out, f, indent=2)
    print(f'wrote {args.out}')
    return res


def summarize(report: dict) -> List[Dict[str, str]]:
    """The headline row for the suite's summary (``benchmarks/run.py``)."""
    r = report['result']
    row = {'config': r['config'], 'batch': str(r['batch_size']), 'threads': str(r['threads']),
           'step wall (s)': f"{r['step_wall_s_median']:.2f}",
           'step CPU (s)': f"{r['step_cpu_s_median']:.2f}"}
    if 'mfu' in r:
        row.update({'MFU (wall)': f"{100 * r['mfu']:.1f}%",
                    'MFU (CPU time)': f"{100 * r['mfu_cpu_time']:.1f}%"})
    return [row]


if __name__ == '__main__':
    main()
