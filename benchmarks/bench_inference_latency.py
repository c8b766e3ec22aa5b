"""Inference latency per 10 s clip: decoding + pre-processing, and the model, on CPU threads.

For each model config (default: ``tiny`` = configs/hola/hola_vit-nano_1xb8-10min_synthetic.py,
``base`` = the paper's HOLA, configs/hola/hola_vit-base_8xb8-30e_avdf1mpp.py) the config's test
pipeline (decord decoding of 16 frames, resize, MFCC ...) and ``model.test_step`` (data
pre-processor + forward + softmax) are timed separately on synthetic 10 s 224x224 25 fps clips
with 16 kHz audio, one clip at a time, as ``tools/infer.py`` runs them. Weights are random
(latency does not depend on their values). The first ``--warmup`` clips are not timed. Besides
wall time (mean, median, min) the process CPU time is reported: on a machine shared with other
jobs, ``cpu_s / threads`` approximates the wall time the clip would take on idle cores.

``--precisions`` (default ``fp32 int8``) times each model in each precision: ``int8`` is the fp32
model with its linear layers dynamically quantized
(:func:`holaframe.deploy.quantization.quantize_dynamic_int8`, same weights). The precisions take
turns clip by clip, so load changes on a shared machine hit them alike. Each JSON row has a
``precision``; an ``int8`` row also has ``max_abs_score_diff``, the largest difference of the
fake probability from the fp32 model's on the same clips.

Usage::

    python benchmarks/bench_inference_latency.py --threads 2 --num-clips 6
    python benchmarks/bench_inference_latency.py --models base --precisions fp32 int8

Results are printed and written as JSON (default
``benchmarks/results/bench_inference_latency.json``). The machine may be shared: run it alone
for reportable numbers. Target for the base model: <= 1.5 s per clip end to end on 2 cores.
"""

import argparse
import json
import os
import os.path as osp
import platform
import statistics
import sys
import tempfile
import time
from typing import Dict, List

import measure

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_MODELS = {
    'tiny': osp.join(REPO, 'configs', 'hola', 'hola_vit-nano_1xb8-10min_synthetic.py'),
    'base': osp.join(REPO, 'configs', 'hola', 'hola_vit-base_8xb8-30e_avdf1mpp.py'),
}


def make_clips(folder: str, num: int) -> List[str]:
    """Write ``num`` synthetic 10 s 224x224 clips with audio; return their paths."""
    from holaframe.testing import generate_synthetic_avdf
    meta = generate_synthetic_avdf(folder, num, 0, 0, 0, seed=0, num_silent=0,
                                   duration_range=(10.0, 10.0), write_test_labels=False)
    return [osp.join(folder, 'train', m['file']) for m in meta['train']]


PRECISIONS = ('fp32', 'int8')


def _row(name: str, config: str, precision: str, params: int, data: Dict,
         decode: List[float], forward: List[float], decode_cpu: List[float],
         forward_cpu: List[float]) -> Dict:
    total = [d + f for d, f in zip(decode, forward)]
    return dict(
        model=name,
        precision=precision,
        config=osp.relpath(config, REPO),
        params_m=params / 1e6,
        video_shape=list(data['inputs']['video'].shape),
        audio_shape=list(data['inputs']['audio'].shape),
        clips=len(total),
        decode_s=statistics.mean(decode),
        model_s=statistics.mean(forward),
        total_s=statistics.mean(total),
        total_median_s=statistics.median(total),
        # The fastest clip: the least disturbed by other processes on a shared machine.
        decode_min_s=min(decode),
        model_min_s=min(forward),
        total_min_s=min(total),
        # CPU seconds of this process (all threads): on an idle machine the wall time is at
        # least cpu_s / threads, so this bounds the uncontended latency on a shared machine.
        decode_cpu_s=statistics.mean(decode_cpu),
        model_cpu_s=statistics.mean(forward_cpu),
    )


def time_model(name: str, config: str, clips: List[str], warmup: int,
               precisions=('fp32', )) -> List[Dict]:
    """Decode and model seconds per clip for one config, one row per precision."""
    import torch
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import DefaultScope

    from holaframe.apis import init_detector
    from holaframe.apis.inference import test_pipeline_cfg

    torch.manual_seed(0)  # the same random weights in every run (for max_abs_score_diff)
    fp32 = init_detector(config, None, device='cpu')
    # Parameters of the fp32 model (the int8 one holds its linear weights as packed int8).
    params = sum(p.numel() for p in fp32.parameters())
    models = {}
    for precision in precisions:
        if precision == 'fp32':
            models[precision] = fp32
        elif precision == 'int8':
            from holaframe.deploy.quantization import quantize_dynamic_int8
            models[precision] = quantize_dynamic_int8(fp32)  # a copy, same weights
        else:
            raise ValueError(f'unknown precision {precision!r}; choose among {PRECISIONS}')
    with DefaultScope.overwrite_default_scope(fp32.cfg.get('default_scope', 'holaframe')):
        pipeline = Compose(test_pipeline_cfg(fp32.cfg))
    times = {p: ([], [], [], []) for p in models}  # decode, forward, decode_cpu, forward_cpu
    scores = {p: [] for p in models}
    reference = []  # fp32 scores of the timed clips
    order = [clips[i % len(clips)] for i in range(warmup)] + clips
    for k, path in enumerate(order):
        for precision, model in models.items():  # take turns clip by clip
            c0, t0 = time.process_time(), time.perf_counter()
            data = pipeline(dict(filename=path, file=osp.basename(path), sample_idx=k,
                                 gt_label=-1))
            c1, t1 = time.process_time(), time.perf_counter()
            with torch.no_grad():
                sample = model.test_step(pseudo_collate([data]))[0]
            c2, t2 = time.process_time(), time.perf_counter()
            score = float(sample.pred_score.reshape(-1)[0])
            assert 0.0 <= score <= 1.0
            if k >= warmup:
                for values, value in zip(times[precision], (t1 - t0, t2 - t1, c1 - c0, c2 - c1)):
                    values.append(value)
                scores[precision].append(score)
        if k >= warmup and 'int8' in models:
            if 'fp32' in models:
                reference.append(scores['fp32'][-1])
            else:  # untimed fp32 reference on the same input
                with torch.no_grad():
                    sample = fp32.test_step(pseudo_collate([data]))[0]
                reference.append(float(sample.pred_score.reshape(-1)[0]))
    rows = []
    for precision in models:
        row = _row(name, config, precision, params, data, *times[precision])
        if precision == 'int8':
            row['max_abs_score_diff'] = max(abs(a - b)
                                            for a, b in zip(scores['int8'], reference))
        rows.append(row)
    return rows


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--models', nargs='+', default=list(DEFAULT_MODELS),
                        help=f'names among {list(DEFAULT_MODELS)} or NAME=CONFIG pairs')
    parser.add_argument('--num-clips', type=int, default=6, help='timed clips per model')
    parser.add_argument('--warmup', type=int, default=1, help='untimed clips first')
    parser.add_argument('--threads', type=int, default=2, help='torch / OpenMP threads')
    parser.add_argument('--precisions', nargs='+', default=list(PRECISIONS), choices=PRECISIONS,
                        help='fp32 and/or int8 (dynamic int8 linear layers, CPU); default both')
    parser.add_argument('--data', help='folder of existing 10 s clips (default: synthesised)')
    parser.add_argument('--out', default=osp.join(REPO, 'benchmarks', 'results',
                                                  'bench_inference_latency.json'))
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ['OMP_NUM_THREADS'] = str(args.threads)
    import torch
    torch.set_num_threads(args.threads)

    models = {}
    for item in args.models:
        name, _, config = item.partition('=')
        models[name] = config or DEFAULT_MODELS[name]
    with tempfile.TemporaryDirectory() as tmp:
        if args.data:
            from holaframe.apis import collect_videos
            clips = collect_videos([args.data])[:args.num_clips]
        else:
            clips = make_clips(tmp, args.num_clips)
        results = [row for name, cfg in models.items()
                   for row in time_model(name, cfg, clips, args.warmup, args.precisions)]

    print(f'{"model":<6} {"prec":<5} {"params(M)":>9} {"decode(s)":>9} {"model(s)":>9} '
          f'{"total(s)":>9} {"min total(s)":>12} {"cpu(s)":>7} {"max|dp|":>8}')
    for r in results:
        diff = r.get('max_abs_score_diff')
        print(f'{r["model"]:<6} {r["precision"]:<5} {r["params_m"]:>9.2f} {r["decode_s"]:>9.3f} '
              f'{r["model_s"]:>9.3f} {r["total_s"]:>9.3f} {r["total_min_s"]:>12.3f} '
              f'{r["decode_cpu_s"] + r["model_cpu_s"]:>7.3f} '
              f'{"" if diff is None else f"{diff:.2e}":>8}')
    fp32_rows = {r['model']: r for r in results if r['precision'] == 'fp32'}
    for r in results:
        ref = fp32_rows.get(r['model'])
        if r['precision'] == 'int8' and ref is not None:
            print(f'{r["model"]}: int8 / fp32 model time {r["model_s"] / ref["model_s"]:.2f} '
                  f'(wall), {r["model_cpu_s"] / ref["model_cpu_s"]:.2f} (CPU); end to end '
                  f'{r["total_s"] / ref["total_s"]:.2f}')
    report = dict(
        benchmark='inference_latency_per_10s_clip',
        threads=args.threads,
        torch=torch.__version__,
        python=sys.version.split()[0],
        machine=platform.machine(),
        cpu_count=os.cpu_count(),
        loadavg=measure.loadavg(),
        omp_wait_policy=os.environ.get('OMP_WAIT_POLICY', 'unset (OpenMP default)'),
        results=results)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(report, f, indent=2)
    print(f'written to {args.out}')
    return 0


def summarize(report: dict) -> List[Dict[str, str]]:
    """One row per model and precision for the suite's summary (``benchmarks/run.py``)."""
    return [{
        'model': r['model'], 'precision': r['precision'], 'params (M)': f"{r['params_m']:.1f}",
        'decode (s)': f"{r['decode_s']:.3f}", 'model (s)': f"{r['model_s']:.3f}",
        'total (s)': f"{r['total_s']:.3f}", 'min total (s)': f"{r['total_min_s']:.3f}",
        'CPU (s)': f"{r['decode_cpu_s'] + r['model_cpu_s']:.3f}"
    } for r in report['results']]


if __name__ == '__main__':
    sys.exit(main())
