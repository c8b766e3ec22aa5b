"""Exported inference against the hardware's limit, per 10 s clip, decoding included.

One run of the base HOLA detector (``configs/hola/hola_vit-base_8xb8-30e_avdf1mpp.py``, random
weights, seed 0) in five forms, timed clip by clip in turn on the same synthetic 10 s 224x224
25 fps clips with 16 kHz audio, each clip decoded by the config's test pipeline and scored:

* ``eager-fp32``: the PyTorch model (``model.test_step``), as ``tools/infer.py`` runs it;
* ``eager-int8``: the same with its linear layers dynamically quantized
  (:func:`holaframe.deploy.quantization.quantize_dynamic_int8`);
* ``ort-fp32``: the exported graph (:func:`holaframe.deploy.onnx_export.export_onnx`) in
  onnxruntime;
* ``ort-int8-dynamic`` / ``ort-int8-static``: the graph quantized by onnxruntime
  (:mod:`holaframe.deploy.onnx_quantization`); static calibration reads ``--calib-samples``
  other synthetic clips through the test pipeline.

The **compute floor** is the forward's FLOPs (fvcore, ``2 *`` multiply-adds, attention
included) divided by the fp32 matmul rate (2048^3, best of 5) measured in the same run, before
and after the clips: both ``torch.mm`` (MKL) and onnxruntime's ``MatMul`` (MLAS) are measured
and the faster is the floor's rate (on some CPUs, AMD's among them, MKL does not reach the
rate MLAS does, and a floor from the slower GEMM would not be a floor). Every form is
reported as ratios: end to end (decode + model) and model alone over the floor, and over the
eager fp32 time; targets are fp32 <= 1.15x the floor and int8 <= 0.6x eager fp32 (printed as
met / not met, never asserted).
Besides wall seconds each clip's process CPU seconds are kept: on a shared machine
``cpu / (FLOPs / matmul FLOP per CPU second)`` is the ratio the cores would give if they were
free, and the verdicts are given for both.

Usage::

    python benchmarks/bench_onnx_inference.py --threads 2 --num-clips 4 --warmup 1

Prints a table and writes JSON (default ``benchmarks/results/bench_onnx_inference.json``).
"""

import argparse
import json
import os
import os.path as osp
import statistics
import sys
import tempfile
import time
from typing import Dict, List

import measure

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIG = osp.join(REPO, 'configs', 'hola', 'hola_vit-base_8xb8-30e_avdf1mpp.py')
VARIANTS = ('eager-fp32', 'eager-int8', 'ort-fp32', 'ort-int8-dynamic', 'ort-int8-static')
#: Targets: fp32 forms against the floor, int8 forms against eager fp32.
FP32_TARGET, INT8_TARGET = 1.15, 0.6


def parse_args(argv=None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='model config')
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument('--num-clips', type=int, default=4, help='timed clips')
    parser.add_argument('--warmup', type=int, default=1, help='untimed clips first')
    parser.add_argument('--calib-samples', type=int, default=8,
                        help='synthetic clips for static calibration')
    parser.add_argument('--threads', type=int, default=2, help='torch and onnxruntime threads')
    parser.add_argument('--out', default=osp.join(REPO, 'benchmarks', 'results',
                                                  'bench_onnx_inference.json'))
    return parser.parse_args(argv)


def ort_matmul_peak_flops(threads: int, n: int = 2048, repeats: int = 5) -> Dict[str, float]:
    """Best-of-``repeats`` fp32 ``n x n`` ``MatMul`` in onnxruntime (its MLAS kernels), per
    wall and per CPU second, like :func:`measure.matmul_peak_flops` for ``torch.mm``."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper
    graph = helper.make_graph(
        [helper.make_node('MatMul', ['a', 'b'], ['c'])], 'mm',
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, [n, n]) for k in 'ab'],
        [helper.make_tensor_value_info('c', TensorProto.FLOAT, [n, n])])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
    proto.ir_version = 8
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(proto.SerializeToString(), opts,
                                providers=['CPUExecutionProvider'])
    rng = np.random.default_rng(0)
    feed = {k: rng.standard_normal((n, n), dtype=np.float32) for k in 'ab'}
    sess.run(None, feed)
    best_wall = best_cpu = float('inf')
    for _ in range(repeats):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        sess.run(None, feed)
        best_wall = min(best_wall, time.perf_counter() - wall0)
        best_cpu = min(best_cpu, time.process_time() - cpu0)
    del onnx
    flops = 2.0 * n**3
    return dict(wall=flops / best_wall, cpu=flops / max(best_cpu, 1e-9))


def peak_rates(threads: int) -> Dict[str, Dict[str, float]]:
    """The fp32 matmul rate of ``torch.mm`` (MKL) and of onnxruntime's ``MatMul`` (MLAS)."""
    return dict(torch=measure.matmul_peak_flops(), onnxruntime=ort_matmul_peak_flops(threads))


def make_clips(folder: str, num: int, seed: int) -> List[str]:
    """``num`` synthetic 10 s 224x224 clips with audio."""
    from holaframe.testing import generate_synthetic_avdf
    meta = generate_synthetic_avdf(folder, num, 0, 0, 0, seed=seed, num_silent=0,
                                   duration_range=(10.0, 10.0), write_test_labels=False)
    return [osp.join(folder, 'train', m['file']) for m in meta['train']]


def build_variants(args, pipeline, calib_clips: List[str], tmp: str) -> Dict[str, object]:
    """``{variant: (kind, model)}`` and the forward FLOPs of one clip."""
    import torch

    from holaframe.apis import init_detector
    from holaframe.deploy.onnx_detector import OnnxDetector
    from holaframe.deploy.onnx_export import OnnxExportWrapper, export_onnx, stack_packed
    from holaframe.deploy.onnx_quantization import (
        PackedCalibrationReader,
        graph_input_shapes,
        quantize_onnx_dynamic,
        quantize_onnx_static,
    )
    from holaframe.deploy.quantization import quantize_dynamic_int8

    torch.manual_seed(0)
    model = init_detector(args.config, None, device='cpu')
    sample = pipeline(dict(filename=calib_clips[0], file='c', sample_idx=0, gt_label=-1))
    inputs = stack_packed([sample])
    flops = measure.forward_flops(OnnxExportWrapper(model).eval(),
                                  tuple(inputs[k] for k in ('video', 'audio', 'has_audio')))
    info = dict(flops=flops['flops'], params=sum(p.numel() for p in model.parameters()),
                export_s={})
    fp32_file = osp.join(tmp, 'fp32.onnx')
    variants = {}
    wanted = set(args.variants)
    if wanted & {'ort-fp32', 'ort-int8-dynamic', 'ort-int8-static'}:
        t0 = time.perf_counter()
        export_onnx(model, inputs, fp32_file)
        info['export_s']['fp32'] = time.perf_counter() - t0
    for name in args.variants:
        t0 = time.perf_counter()
        if name == 'eager-fp32':
            variants[name] = model
        elif name == 'eager-int8':
            variants[name] = quantize_dynamic_int8(model)
        elif name == 'ort-fp32':
            variants[name] = OnnxDetector(fp32_file, model.cfg, threads=args.threads)
        elif name == 'ort-int8-dynamic':
            dst = osp.join(tmp, 'int8-dynamic.onnx')
            quantize_onnx_dynamic(fp32_file, dst)
            variants[name] = OnnxDetector(dst, model.cfg, threads=args.threads)
        elif name == 'ort-int8-static':
            dst = osp.join(tmp, 'int8-static.onnx')
            samples = [pipeline(dict(filename=c, file=osp.basename(c), sample_idx=i,
                                     gt_label=-1)) for i, c in enumerate(calib_clips)]
            reader = PackedCalibrationReader(samples, input_shapes=graph_input_shapes(fp32_file))
            quantize_onnx_static(fp32_file, dst, reader)
            variants[name] = OnnxDetector(dst, model.cfg, threads=args.threads)
        info['export_s'][name] = time.perf_counter() - t0
        print(f'{name}: ready in {info["export_s"][name]:.1f} s', flush=True)
    return variants, info


def time_variants(variants: Dict[str, object], pipeline, clips: List[str],
                  warmup: int) -> Dict[str, Dict[str, List[float]]]:
    """Decode and model wall / CPU seconds and scores per clip, variants in turn."""
    import torch
    from mmengine.dataset import pseudo_collate
    times = {v: dict(decode=[], model=[], decode_cpu=[], model_cpu=[], score=[])
             for v in variants}
    order = [clips[i % len(clips)] for i in range(warmup)] + clips
    for k, path in enumerate(order):
        for name, model in variants.items():
            c0, t0 = time.process_time(), time.perf_counter()
            data = pipeline(dict(filename=path, file=osp.basename(path), sample_idx=k,
                                 gt_label=-1))
            c1, t1 = time.process_time(), time.perf_counter()
            with torch.no_grad():
                sample = model.test_step(pseudo_collate([data]))[0]
            c2, t2 = time.process_time(), time.perf_counter()
            if k >= warmup:
                row = times[name]
                for key, value in (('decode', t1 - t0), ('model', t2 - t1),
                                   ('decode_cpu', c1 - c0), ('model_cpu', c2 - c1),
                                   ('score', float(sample.pred_score.reshape(-1)[0]))):
                    row[key].append(value)
        print(f'clip {k + 1}/{len(order)} done' + (' (warm-up)' if k < warmup else ''),
              flush=True)
    return times


def rows_from(times: Dict, flops: float, peak: Dict[str, float], threads: int) -> List[Dict]:
    """One row per variant with the ratios and verdicts."""
    floor = flops / peak['wall']
    floor_cpu = flops / peak['cpu']  # CPU seconds of the forward at the matmul's rate
    med = statistics.median
    ref = times.get('eager-fp32')
    rows = []
    for name, t in times.items():
        total = [d + m for d, m in zip(t['decode'], t['model'])]
        cpu = [d + m for d, m in zip(t['decode_cpu'], t['model_cpu'])]
        row = dict(variant=name, clips=len(total), decode_s=med(t['decode']),
                   model_s=med(t['model']), total_s=med(total), total_min_s=min(total),
                   cpu_s=med(cpu), model_cpu_s=med(t['model_cpu']),
                   total_over_floor=med(total) / floor, model_over_floor=med(t['model']) / floor,
                   cpu_over_floor=med(cpu) / floor_cpu,
                   model_cpu_over_floor=med(t['model_cpu']) / floor_cpu)
        if ref is not None:
            ref_total = med([d + m for d, m in zip(ref['decode'], ref['model'])])
            ref_cpu = med([d + m for d, m in zip(ref['decode_cpu'], ref['model_cpu'])])
            row.update(total_over_eager_fp32=med(total) / ref_total,
                       cpu_over_eager_fp32=med(cpu) / ref_cpu,
                       max_abs_score_diff=max(abs(a - b) for a, b in
                                              zip(t['score'], ref['score'])))
        if name.endswith('fp32'):
            row.update(target=f'<= {FP32_TARGET}x floor',
                       met_wall=row['total_over_floor'] <= FP32_TARGET,
                       met_cpu=row['cpu_over_floor'] <= FP32_TARGET)
        elif 'total_over_eager_fp32' in row:
            row.update(target=f'<= {INT8_TARGET}x eager fp32',
                       met_wall=row['total_over_eager_fp32'] <= INT8_TARGET,
                       met_cpu=row['cpu_over_eager_fp32'] <= INT8_TARGET)
        rows.append(row)
    return rows


def main(argv=None) -> int:
    """Run and report."""
    args = parse_args(argv)
    os.environ['OMP_NUM_THREADS'] = str(args.threads)
    import torch
    from mmengine.config import Config
    from mmengine.dataset import Compose
    from mmengine.registry import DefaultScope

    from holaframe.apis.inference import test_pipeline_cfg
    from holaframe.utils import register_all_modules
    torch.set_num_threads(args.threads)
    register_all_modules(init_default_scope=False)
    load_before = measure.loadavg()
    cfg = Config.fromfile(args.config)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'holaframe')):
        pipeline = Compose(test_pipeline_cfg(cfg))
    with tempfile.TemporaryDirectory() as tmp:
        clips = make_clips(osp.join(tmp, 'timed'), args.num_clips, seed=0)
        calib = make_clips(osp.join(tmp, 'calib'), args.calib_samples, seed=1)
        peaks = [peak_rates(args.threads)]
        variants, info = build_variants(args, pipeline, calib, tmp)
        peaks.append(peak_rates(args.threads))
        times = time_variants(variants, pipeline, clips, args.warmup)
        peaks.append(peak_rates(args.threads))
    # The floor uses the faster of the two GEMMs: the hardware allows at least that rate.
    by_lib = {lib: dict(wall=max(p[lib]['wall'] for p in peaks),
                        cpu=max(p[lib]['cpu'] for p in peaks)) for lib in peaks[0]}
    peak = dict(wall=max(r['wall'] for r in by_lib.values()),
                cpu=max(r['cpu'] for r in by_lib.values()))
    rows = rows_from(times, info['flops'], peak, args.threads)
    floor = info['flops'] / peak['wall']
    for lib, r in by_lib.items():
        print(f'fp32 matmul 2048^3 ({lib}): {r["wall"] / 1e9:.1f} GFLOP/s (wall), '
              f'{r["cpu"] / 1e9:.1f} GFLOP per CPU-s')
    print(f'forward {info["flops"] / 1e9:.1f} GFLOP, best matmul {peak["wall"] / 1e9:.1f} '
          f'GFLOP/s (wall), {peak["cpu"] / 1e9:.1f} GFLOP per CPU-s -> floor {floor:.3f} s')
    print(f'{"variant":<17} {"decode":>7} {"model":>7} {"total":>7} {"cpu":>7} {"tot/floor":>9} '
          f'{"cpu/floor":>9} {"vs eager":>8} {"max|dp|":>8}  target')
    for r in rows:
        verdict = '' if 'target' not in r else (
            f'{r["target"]}: wall {"met" if r["met_wall"] else "not met"}, '
            f'cpu {"met" if r["met_cpu"] else "not met"}')
        print(f'{r["variant"]:<17} {r["decode_s"]:>7.3f} {r["model_s"]:>7.3f} '
              f'{r["total_s"]:>7.3f} {r["cpu_s"]:>7.3f} {r["total_over_floor"]:>9.2f} '
              f'{r["cpu_over_floor"]:>9.2f} {r.get("total_over_eager_fp32", 0):>8.2f} '
              f'{r.get("max_abs_score_diff", 0):>8.1e}  {verdict}')
    report = dict(benchmark='onnx_inference_per_10s_clip', config=osp.relpath(args.config, REPO),
                  threads=args.threads, torch=torch.__version__,
                  onnxruntime=_version('onnxruntime'), machine=measure.machine_info(),
                  loadavg_before=load_before, loadavg_after=measure.loadavg(),
                  omp_wait_policy=os.environ.get('OMP_WAIT_POLICY', 'unset'),
                  forward_flops=info['flops'], params=info['params'],
                  matmul_fp32_flops_per_s=peak['wall'], matmul_fp32_flops_per_cpu_s=peak['cpu'],
                  matmul_by_library=by_lib, matmul_runs=peaks, floor_s=floor,
                  export_s=info['export_s'],
                  calib_samples=args.calib_samples, results=rows)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(report, f, indent=2)
    print(f'written to {args.out}')
    return 0


def _version(package: str) -> str:
    try:
        from importlib.metadata import version
        return version(package)
    except Exception:  # noqa: BLE001 - a report field only
        return 'unknown'


def summarize(report: dict) -> List[Dict[str, str]]:
    """One row per variant for the suite's summary (``benchmarks/run.py``)."""
    rows = []
    for r in report['results']:
        rows.append({
            'variant': r['variant'], 'decode (s)': f"{r['decode_s']:.3f}",
            'model (s)': f"{r['model_s']:.3f}", 'total (s)': f"{r['total_s']:.3f}",
            'CPU (s)': f"{r['cpu_s']:.3f}", 'total / floor': f"{r['total_over_floor']:.2f}",
            'CPU / floor': f"{r['cpu_over_floor']:.2f}",
            'vs eager fp32': f"{r.get('total_over_eager_fp32', float('nan')):.2f}",
            'target': r.get('target', ''),
            'met (wall / CPU)': ('' if 'met_wall' not in r else
                                 f"{'yes' if r['met_wall'] else 'no'} / "
                                 f"{'yes' if r['met_cpu'] else 'no'}")})
    return rows


if __name__ == '__main__':
    sys.exit(main())
