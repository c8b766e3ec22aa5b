"""Inference time per 10 s clip with and without temporal localisation, in the same run.

Synthetic 10 s clips (the synthetic generator at 224 px, in a temporary folder) go through the
localisation config's test pipeline (every frame decoded, mouth crop, per-frame log-mel) once
each; then the same model scores every decoded clip twice, interleaved: with its
``LocalizationHead`` and ``SegmentPostProcessor`` (segments and frame timeline), and with the
localisation head removed (detection only: the same sliding windows, the same clip score).
Each model call is timed ``--repeats`` times (the fastest kept: the least disturbed by other
processes). Reported per clip: decode + features, model with and without localisation, the
post-processing alone, and the overhead of localisation relative to the end-to-end time
(decode + model), to the model time and to the model's CPU time (process CPU seconds, which
other jobs on shared cores disturb less than the wall time). The target is an overhead of at
most 10 %; it is printed, never asserted.

Usage::

    python benchmarks/bench_localization.py --num-clips 4 --repeats 3 --threads 2
    python benchmarks/bench_localization.py --checkpoint work_dirs/loc/best.pth

Results are printed and written as JSON (default ``benchmarks/results/bench_localization.json``).
Without ``--checkpoint`` the weights are random (the cost does not depend on them, except the
number of candidate segments, which the cap bounds).
"""

import argparse
import json
import os
import os.path as osp
import sys
import tempfile
import time
from typing import Dict, List

import measure

TARGET_OVERHEAD = 0.10
DEFAULT_CONFIG = 'configs/localization/hola-loc-dense_tiny_1xb8-10min_synthetic.py'


def parse_args(argv=None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='a config with a loc_head')
    parser.add_argument('--checkpoint', help='weights (default: random)')
    parser.add_argument('--num-clips', type=int, default=4)
    parser.add_argument('--duration', type=float, default=10.0, help='clip length in seconds')
    parser.add_argument('--repeats', type=int, default=3, help='timed calls per clip (best)')
    parser.add_argument('--threads', type=int, default=2, help='torch threads')
    parser.add_argument('--out', default='benchmarks/results/bench_localization.json')
    return parser.parse_args(argv)


def _best(fn, repeats: int) -> float:
    return min(measure.time_calls(fn, steps=repeats, warmup=0)['wall_s'])


def _best_cpu(fn) -> float:
    """CPU seconds of the process for one call (less disturbed by other jobs than wall time)."""
    return measure.time_calls(fn, steps=1, warmup=0)['cpu_s'][0]


def main(argv=None) -> int:
    """Entry point."""
    args = parse_args(argv)
    import torch
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import DefaultScope

    from holaframe.apis import init_detector
    from holaframe.apis.inference import test_pipeline_cfg
    from holaframe.testing import generate_synthetic_avdf

    torch.set_num_threads(args.threads)
    load_before = measure.loadavg()
    model = init_detector(args.config, args.checkpoint)
    if model.loc_head is None:
        raise SystemExit(f'{args.config}: the model has no loc_head')
    loc_head = model.loc_head
    with DefaultScope.overwrite_default_scope('holaframe'):
        pipeline = Compose([t for t in test_pipeline_cfg(model.cfg)
                            if t.get('type') != 'SegmentTargets'])
    with tempfile.TemporaryDirectory() as tmp:
        meta = generate_synthetic_avdf(tmp, 0, args.num_clips, 0, 0, seed=1, num_silent=0,
                                       duration_range=(args.duration, args.duration))['val']
        clips = [osp.join(tmp, 'val', m['file']) for m in meta]
        rows: List[Dict] = []
        for i, path in enumerate(clips):
            results = dict(filename=path, file=osp.basename(path), sample_idx=i, gt_label=-1)
            start = time.perf_counter()
            data = pipeline(dict(results))
            decode_s = time.perf_counter() - start
            batch = pseudo_collate([data])

            def run(localize: bool, batch=batch):
                model.loc_head = loc_head if localize else None
                with torch.no_grad():
                    return model.test_step(batch)[0]

            run(True), run(False)  # warm-up (allocations, first-call costs)
            times = {True: [], False: []}
            cpu = {True: [], False: []}
            for _ in range(args.repeats):  # interleaved
                for flag in (True, False):
                    times[flag].append(_best(lambda f=flag: run(f), 1))
                    cpu[flag].append(_best_cpu(lambda f=flag: run(f)))
            sample = run(True)
            pp = model.post_processor
            scores = sample.pred_frame_scores.numpy()
            times_s = sample.pred_frame_times.numpy()
            dists = scores[:, None].repeat(2, 1) * 0.1
            post_s = _best(lambda pp=pp, s=scores, d=dists, t=times_s: pp(s, d, t, t[-1] + 0.02),
                           args.repeats)
            rows.append(dict(file=meta[i]['file'], frames=len(scores), decode_s=decode_s,
                             model_loc_s=min(times[True]), model_det_s=min(times[False]),
                             model_loc_cpu_s=min(cpu[True]), model_det_cpu_s=min(cpu[False]),
                             post_process_s=post_s,
                             num_segments=int(sample.pred_segments.shape[0])))
    model.loc_head = loc_head
    mean = {k: sum(r[k] for r in rows) / len(rows)
            for k in ('decode_s', 'model_loc_s', 'model_det_s', 'post_process_s',
                      'model_loc_cpu_s', 'model_det_cpu_s')}
    e2e_loc = mean['decode_s'] + mean['model_loc_s']
    e2e_det = mean['decode_s'] + mean['model_det_s']
    report = dict(
        config=args.config, checkpoint=args.checkpoint, num_clips=len(rows),
        duration_s=args.duration, threads=args.threads, repeats=args.repeats,
        window=model.test_window, per_clip=rows, mean=mean,
        end_to_end_loc_s=e2e_loc, end_to_end_det_s=e2e_det,
        overhead_end_to_end=e2e_loc / e2e_det - 1,
        overhead_model=mean['model_loc_s'] / mean['model_det_s'] - 1,
        overhead_model_cpu=mean['model_loc_cpu_s'] / mean['model_det_cpu_s'] - 1,
        target_overhead=TARGET_OVERHEAD,
        within_target=e2e_loc / e2e_det - 1 <= TARGET_OVERHEAD,
        loadavg_before=load_before, loadavg_after=measure.loadavg(),
        machine=measure.machine_info())
    print(f'per {args.duration:g} s clip ({len(rows)} clips, {args.threads} threads): decode + '
          f'features {mean["decode_s"]:.3f} s, model with localisation '
          f'{mean["model_loc_s"]:.3f} s, without {mean["model_det_s"]:.3f} s, post-processing '
          f'{mean["post_process_s"] * 1000:.1f} ms')
    print(f'localisation adds {report["overhead_end_to_end"] * 100:.1f} % end to end '
          f'({report["overhead_model"] * 100:.1f} % of the model time, '
          f'{report["overhead_model_cpu"] * 100:.1f} % of its CPU time); target <= '
          f'{TARGET_OVERHEAD * 100:g} %: {"yes" if report["within_target"] else "no"}; load '
          f'{load_before} -> {report["loadavg_after"]}')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(report, f, indent=1)
    return 0


def summarize(report: dict) -> List[Dict[str, str]]:
    """One row for the suite's summary (``benchmarks/run.py``)."""
    m = report['mean']
    return [{
        'clip s': f"{report['duration_s']:g}", 'decode s': f"{m['decode_s']:.3f}",
        'model + loc s': f"{m['model_loc_s']:.3f}", 'model s': f"{m['model_det_s']:.3f}",
        'post ms': f"{m['post_process_s'] * 1000:.1f}",
        'overhead e2e': f"{report['overhead_end_to_end'] * 100:.1f} %",
        f"<= {report['target_overhead'] * 100:g} %": 'yes' if report['within_target'] else 'no'
    }]


if __name__ == '__main__':
    sys.exit(main())
