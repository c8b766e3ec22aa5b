"""Run the benchmark suite: ``python benchmarks/run.py [NAMES] [options]``.

Each named benchmark runs as its own subprocess (``python benchmarks/<script>.py ... --out
FILE``), one after the other, so that they never compete for the cores. The reports are merged
into ``benchmarks/results/<machine>.json`` (one entry per benchmark: the command, the load
average before and after, the wall time, and the script's own JSON report) and a markdown
summary ``benchmarks/results/<machine>.md`` is rewritten from it. Running a subset replaces only
those entries. ``<machine>`` is :func:`measure.machine_name` (CPU model and core count; set
``HOLAFRAME_BENCH_MACHINE`` or ``--machine`` to choose it).

Without NAMES the default set runs: every benchmark except those that need what the
repository does not ship (``auc_vs_time``: a config's data; ``onnx_accuracy``: a trained
checkpoint; ``hicmae_step``: a clone of the reference HiCMAE code). ``--quick`` uses the small
settings listed in :data:`BENCHMARKS` (for checking that the suite runs, not for reportable
numbers); ``--args NAME="--flag value ..."`` passes extra arguments to one script. See
benchmarks/README.md for what each benchmark measures and how to read it.
"""

import argparse
import importlib
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

# Idle OpenMP threads sleep instead of spinning (see docs/performance.md); inherited by every
# benchmark process. An explicit value in the environment wins and is recorded.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import measure  # noqa: E402

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(HERE)

#: name -> script, one-line description, default arguments, quick arguments, in the default set.
BENCHMARKS: Dict[str, dict] = {
    'train_step': dict(
        script='bench_train_step.py',
        what='HOLA detector training step (16 x 224 px, MFCC): samples/s, MFU, peak RSS',
        args=[], quick=['--sizes', 'tiny', '--steps', '1', '--warmup', '0'], default=True),
    'baselines_train_step': dict(
        script='bench_baselines_train_step.py',
        what='training-step MFU of the two largest Table 1 baselines (TimeSformer, CNN14) at '
             'standard size next to HOLA base',
        args=[], quick=['--models', 'cnn14', '--steps', '1', '--warmup', '0', '--batch-size',
                        '1'], default=True),
    'pretrain_step': dict(
        script='bench_pretrain_step.py',
        what='AV-MAE pre-training step with and without dual masking: step time, MFU',
        args=[], quick=['--sizes', 'tiny', '--steps', '1', '--warmup', '0'], default=True),
    'hicmae_step': dict(
        script='bench_hicmae_step.py',
        what='AV-MAE pre-training step against the reference HiCMAE code (same size, masks, '
             'losses): step-time ratio without dual masking (target <= 1) and speed-up with it '
             '(target >= 1.5x); needs a HiCMAE clone (--hicmae-dir, HOLAFRAME_HICMAE_DIR or '
             '--fetch)',
        args=[], quick=['--size', 'tiny', '--batch-size', '1', '--steps', '1', '--warmup', '0',
                        '--no-flops'], default=False),
    'inference_latency': dict(
        script='bench_inference_latency.py',
        what='seconds per 10 s clip: decoding + features and the model, fp32 and int8',
        args=[], quick=['--models', 'tiny', '--num-clips', '1', '--warmup', '0',
                        '--precisions', 'fp32'], default=True),
    'data_pipeline': dict(
        script='bench_data_pipeline.py',
        what='input pipelines vs naive decoding: clips/s per core, peak RSS',
        args=[], quick=['--num-clips', '2', '--workers', '0', '--pipelines', 'finetune',
                        '--warmup', '0'], default=True),
    'packed_clips': dict(
        script='bench_packed_clips.py',
        what='decoded-clip cache: clips/s per core from the videos and from the cache (10x '
             'target), disk per clip and for AV-Deepfake1M++',
        args=[], quick=['--num-clips', '2', '--repeats', '1', '--pipelines', 'dense'],
        default=True),
    'profile_train_step': dict(
        script='profile_train_step.py',
        what='where a base training step spends its time; MFU by wall and CPU time',
        args=[], quick=['--config', 'configs/_base_/models/hola_vit-base.py', '--steps', '1',
                        '--warmup', '0', '--batch-size', '1', '--no-flops'], default=True),
    'profile_inference_forward': dict(
        script='profile_inference_forward.py',
        what='the model forward of one clip against its FLOP floor',
        args=[], quick=['--repeats', '1'], default=True),
    'perturbations': dict(
        script='bench_perturbations.py',
        what='robustness perturbations: cost per clip against the clip\'s decode time',
        args=[], quick=['--num-clips', '1', '--duration', '3', '--levels', '1', '--repeats',
                        '1'], default=True),
    'serving': dict(
        script='bench_serving.py',
        what='scoring service (tools/serve.py): requests/min, p50/p95 latency, server overhead '
             'and memory for 10 s clips, fp32 and int8',
        args=[], quick=['--models', 'tiny', '--precisions', 'fp32', '--requests', '1',
                        '--warmup', '0', '--num-clips', '1'], default=True),
    'onnx_inference': dict(
        script='bench_onnx_inference.py',
        what='base HOLA per 10 s clip, decode included: compute floor, eager fp32 / int8, '
             'onnxruntime fp32 / int8 dynamic / int8 static, as ratios with targets',
        args=[], quick=['--config', 'configs/hola/hola_vit-nano_1xb8-10min_synthetic.py',
                        '--num-clips', '1', '--warmup', '0', '--calib-samples', '1'],
        default=True),
    'onnx_accuracy': dict(
        script='bench_onnx_accuracy.py',
        what='AUC of the exported fp32 and int8 (dynamic, static) detectors against PyTorch '
             'fp32 on a labeled subset (needs a trained checkpoint and data)',
        args=['configs/hola/hola-dense_tiny_1xb8-10min_synthetic.py',
              'work_dirs/demo/train/best_*.pth'],
        quick=['configs/hola/hola-dense_tiny_1xb8-10min_synthetic.py',
               'work_dirs/demo/train/best_*.pth', '--max-clips', '8',
               '--calib-samples', '2'], default=False),
    'localization': dict(
        script='bench_localization.py',
        what='seconds per 10 s clip with and without temporal localisation (same model, same '
             'run): overhead against the 10 % target',
        args=[], quick=['--num-clips', '1', '--repeats', '1', '--duration', '3'], default=True),
    'auc_vs_time': dict(
        script='bench_auc_vs_time.py',
        what='validation AUC against wall and CPU seconds of a training run (needs data)',
        args=['configs/hola/hola-dense_tiny_1xb8-10min_synthetic.py'],
        quick=['configs/hola/hola-dense_tiny_1xb8-10min_synthetic.py'], default=False),
}


def parse_args(argv=None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(
        description='Run the holaframe benchmark suite and write '
        'benchmarks/results/<machine>.json and .md')
    parser.add_argument('names', nargs='*', help=f'benchmarks to run, among {list(BENCHMARKS)}'
                        ' (default: those not marked "only when named" in --list)')
    parser.add_argument('--quick', action='store_true',
                        help='small settings that only check the suite runs')
    parser.add_argument('--args', nargs='*', default=[], metavar='NAME=ARGS',
                        help='extra arguments for one benchmark, e.g. '
                        'inference_latency="--threads 2"')
    parser.add_argument('--results-dir', default=osp.join(HERE, 'results'),
                        help='where <machine>.json and <machine>.md are written')
    parser.add_argument('--machine', help='machine label of the result files')
    parser.add_argument('--list', action='store_true', help='list the benchmarks and exit')
    return parser.parse_args(argv)


def _extra_args(items: List[str]) -> Dict[str, List[str]]:
    extra: Dict[str, List[str]] = {}
    for item in items:
        name, sep, args = item.partition('=')
        if not sep or name not in BENCHMARKS:
            raise SystemExit(f'run.py: --args expects NAME="ARGS" with NAME among '
                             f'{list(BENCHMARKS)}, got {item!r}')
        extra[name] = shlex.split(args)
    return extra


def run_one(name: str, quick: bool, extra: List[str], tmp: str) -> dict:
    """Run one benchmark script in a subprocess; its report with the run's context."""
    spec = BENCHMARKS[name]
    out_file = osp.join(tmp, f'{name}.json')
    cmd = [sys.executable, osp.join(HERE, spec['script'])]
    cmd += (spec['quick'] if quick else spec['args']) + extra
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(p for p in (REPO, env.get('PYTHONPATH')) if p)
    shown = [osp.relpath(cmd[1], REPO)] + cmd[2:]
    entry = dict(script=spec['script'], command=' '.join(shlex.quote(c) for c in shown),
                 quick=quick, loadavg_before=measure.loadavg(),
                 started=time.strftime('%Y-%m-%d %H:%M:%S'))
    print(f'== {name}: {entry["command"]}', flush=True)
    start = time.perf_counter()
    proc = subprocess.run(cmd + ['--out', out_file], cwd=REPO, env=env)
    entry.update(seconds=round(time.perf_counter() - start, 1), returncode=proc.returncode,
                 loadavg_after=measure.loadavg())
    if proc.returncode == 0 and osp.isfile(out_file):
        with open(out_file) as f:
            entry['report'] = json.load(f)
    return entry


def _table(rows: List[Dict[str, str]]) -> List[str]:
    if not rows:
        return ['(no rows)']
    cols = list(rows[0])
    lines = ['| ' + ' | '.join(cols) + ' |', '|' + '---|' * len(cols)]
    lines += ['| ' + ' | '.join(str(r.get(c, '')) for c in cols) + ' |' for r in rows]
    return lines


def summary_rows(name: str, report) -> Optional[List[Dict[str, str]]]:
    """The script's ``summarize(report)`` rows, or None when it has none."""
    module = importlib.import_module(osp.splitext(BENCHMARKS[name]['script'])[0])
    summarize = getattr(module, 'summarize', None)
    return None if summarize is None else summarize(report)


def write_markdown(path: str, machine: str, data: dict) -> None:
    """The summary page: machine, then one table per benchmark."""
    info = data['machine_info']
    lines = [f'# Benchmarks on {machine}', '',
             f'CPU: {info["cpu"]}, {info["cpu_count"]} logical cores '
             f'({", ".join(info["cpu_flags"]) or "no AVX2"}); '
             + (f'GPU: {info["gpu"]}; ' if info.get('gpu') else '')
             + f'Python {info["python"]}, torch {info["torch"]}, '
             f'OMP_WAIT_POLICY={info["omp_wait_policy"]}.', '']
    for name in BENCHMARKS:
        entry = data['runs'].get(name)
        if entry is None:
            continue
        lines += [f'## {name}', '', BENCHMARKS[name]['what'] + '.', '',
                  f'`python {entry["command"]}` ({entry["started"]}, '
                  f'{entry["seconds"]} s, load average before {entry["loadavg_before"]}, '
                  f'after {entry["loadavg_after"]}' + (', quick settings' if entry['quick']
                                                         else '') + ')', '']
        if entry['returncode'] != 0:
            lines += [f'Failed with exit status {entry["returncode"]}.', '']
            continue
        rows = summary_rows(name, entry.get('report'))
        lines += (_table(rows) if rows is not None else
                  ['(see the JSON report)']) + ['']
    with open(path, 'w') as f:
        f.write('\n'.join(lines))


def main(argv=None) -> int:
    """Run the chosen benchmarks and update the result files; non-zero if one failed."""
    args = parse_args(argv)
    if args.list:
        for name, spec in BENCHMARKS.items():
            star = '' if spec['default'] else '  (only when named)'
            print(f'{name:28s} {spec["script"]:30s} {spec["what"]}{star}')
        return 0
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f'run.py: unknown benchmark(s) {unknown}; choose among '
                         f'{list(BENCHMARKS)}')
    names = args.names or [n for n, s in BENCHMARKS.items() if s['default']]
    extra = _extra_args(args.args)
    info = measure.machine_info()
    machine = args.machine or measure.machine_name(info)
    os.makedirs(args.results_dir, exist_ok=True)
    json_path = osp.join(args.results_dir, f'{machine}.json')
    data = dict(machine=machine, machine_info=info, runs={})
    if osp.isfile(json_path):
        with open(json_path) as f:
            data['runs'] = json.load(f).get('runs', {})
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            entry = run_one(name, args.quick, extra.get(name, []), tmp)
            data['runs'][name] = entry
            if entry['returncode'] != 0:
                failed.append(name)
            with open(json_path, 'w') as f:  # after every benchmark: partial runs are kept
                json.dump(data, f, indent=1)
    md_path = osp.join(args.results_dir, f'{machine}.md')
    write_markdown(md_path, machine, data)
    print(f'wrote {json_path} and {md_path}')
    if failed:
        print(f'failed: {failed}', file=sys.stderr)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
