"""Profile the model part of inference (one clip, ``mode='predict'``) on the CPU.

``bench_inference_latency.py`` times decode + features + model per 10 s clip end to end; this
script isolates the model forward and relates it to the arithmetic floor:

* fvcore forward FLOPs of one clip (``2 *`` multiply-adds, attention included);
* wall and process CPU time (all threads) of ``model(inputs, mode='predict')`` at batch 1,
  under ``torch.no_grad`` (``predict`` is decorated with it);
* ``floor_s = FLOPs / P``: the time at 100% of the measured fp32 ``torch.mm`` throughput ``P``
  (2048^3, best of 5, wall clock), and ``mfu_cpu_time``: the forward's FLOP per CPU second over
  the product's FLOP per CPU second, i.e. the utilisation the forward reaches with the cores to
  itself (see ``profile_train_step.py``; ``OMP_WAIT_POLICY=PASSIVE`` unless set otherwise);
* ``estimated_idle_s = CPU time / threads``: the forward's latency on an otherwise idle machine
  if the threads scale perfectly.

Usage::

    python benchmarks/profile_inference_forward.py --threads 2

Prints a summary and writes JSON (default
``benchmarks/results/profile_inference_forward.json``).
"""

import argparse
import json
import os
import os.path as osp
import platform
import time

# Before torch loads OpenMP: waiting threads sleep instead of spinning (see docs/performance.md;
# set OMP_WAIT_POLICY=ACTIVE explicitly to measure the spinning default).
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
import measure  # noqa: E402
import torch  # noqa: E402
from profile_train_step import DEFAULT_CONFIG, _cpu_seconds, build, forward_flops  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description='Profile the HOLA inference forward (CPU).')
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='model config')
    parser.add_argument('--threads', type=int, default=None, help='torch threads')
    parser.add_argument('--repeats', type=int, default=3, help='timed forwards')
    parser.add_argument('--out', default=osp.join('benchmarks', 'results',
                                                  'profile_inference_forward.json'))
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    """Run and report."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    model, batch = build(args.config, 1)
    model.eval()
    flops = forward_flops(model, batch['inputs'])['total']
    peaks = [measure.matmul_peak_flops()]
    walls, cpus = [], []
    for i in range(args.repeats + 1):  # the first forward is a warm-up
        cpu0, wall0 = _cpu_seconds(), time.perf_counter()
        model(batch['inputs'], batch['data_samples'], mode='predict')
        wall, cpu = time.perf_counter() - wall0, _cpu_seconds() - cpu0
        print(f'forward {i}: wall {wall:.2f} s, cpu {cpu:.2f} s', flush=True)
        if i:
            walls.append(wall)
            cpus.append(cpu)
    peaks.append(measure.matmul_peak_flops())
    peak = max(p['wall'] for p in peaks)
    peak_cpu = max(p['cpu'] for p in peaks)
    wall, cpu = sorted(walls)[len(walls) // 2], sorted(cpus)[len(cpus) // 2]
    res = dict(config=osp.relpath(args.config), threads=threads,
               omp_wait_policy=os.environ.get('OMP_WAIT_POLICY'), forward_flops=flops,
               forward_wall_s=walls, forward_cpu_s=cpus, forward_wall_s_median=wall,
               forward_cpu_s_median=cpu, matmul_fp32_flops_per_s=peak,
               matmul_fp32_flops_per_cpu_s=peak_cpu, floor_s=flops / peak,
               mfu_wall=flops / wall / peak, mfu_cpu_time=flops / cpu / peak_cpu,
               estimated_idle_s=cpu / threads,
               loadavg_1min=(measure.loadavg() or [0.0])[0])
    print(f"{res['config']}: 1 clip, {threads} threads, load {res['loadavg_1min']:.1f}")
    print(f'  forward {flops / 1e9:.1f} GFLOP; wall {wall:.2f} s, cpu {cpu:.2f} s '
          f'(idle estimate {cpu / threads:.2f} s)')
    print(f'  matmul peak {peak / 1e9:.1f} GFLOP/s -> floor {flops / peak:.2f} s; '
          f"MFU {100 * res['mfu_wall']:.1f}% (wall), {100 * res['mfu_cpu_time']:.1f}% (CPU time)")
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(dict(benchmark='profile_inference_forward', torch=torch.__version__,
                       machine=platform.machine(), cpu_count=os.cpu_count(), result=res),
                  f, indent=2)
    print(f'wrote {args.out}')
    return res


def summarize(report: dict) -> list:
    """The headline row for the suite's summary (``benchmarks/run.py``)."""
    r = report['result']
    return [{
        'config': r['config'], 'threads': str(r['threads']),
        'GFLOP': f"{r['forward_flops'] / 1e9:.1f}", 'wall (s)': f"{r['forward_wall_s_median']:.2f}",
        'CPU (s)': f"{r['forward_cpu_s_median']:.2f}", 'floor (s)': f"{r['floor_s']:.2f}",
        'MFU (CPU time)': f"{100 * r['mfu_cpu_time']:.1f}%"
    }]


if __name__ == '__main__':
    main()
