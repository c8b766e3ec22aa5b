"""Accuracy of the exported and int8 detectors against PyTorch fp32 on a labeled subset.

A trained checkpoint is exported to ONNX in fp32 and quantized by onnxruntime in int8
(dynamic, and static calibrated on ``--calib-samples`` clips of the config's training set
through its test pipeline, as ``tools/deployment/export_onnx.py --int8 static`` does); PyTorch's
own dynamic int8 (``quantize_dynamic_int8``) is scored too. Every clip of the labeled subset
(default ``val``) is decoded once by the config's test pipeline and scored by every form; the
report has each form's AUC and ACC (threshold 0.5), the AUC difference to PyTorch fp32, the
largest and mean |score difference|, and the labels changed at 0.5. The target is
|AUC(int8) - AUC(fp32)| <= 0.002 (printed, never asserted).

Usage (the README's dense demo model on the synthetic data)::

    python benchmarks/bench_onnx_accuracy.py configs/hola/hola-dense_tiny_1xb8-10min_synthetic.py \\
        'work_dirs/demo/train/best_*.pth' --subset val --calib-samples 32

Writes JSON (default ``benchmarks/results/bench_onnx_accuracy.json``).
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

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
FORMS = ('eager-fp32', 'eager-int8', 'ort-fp32', 'ort-int8-dynamic', 'ort-int8-static')
AUC_TARGET = 0.002


def resolve_checkpoint(pattern: str) -> str:
    """``pattern`` itself when it is a file, else the newest file matching it as a glob."""
    import glob
    if osp.isfile(pattern):
        return pattern
    matches = sorted(glob.glob(pattern), key=osp.getmtime)
    if not matches:
        raise SystemExit(f'bench_onnx_accuracy.py: no checkpoint at {pattern!r}: train one '
                         f'first (bash tools/run_demo.sh writes work_dirs/demo/train/best_*.pth)')
    return matches[-1]


def parse_args(argv=None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='model config (with train and test data settings)')
    parser.add_argument('checkpoint',
                        help='trained checkpoint, or a glob pattern (the newest match is used, '
                        'e.g. work_dirs/demo/train/best_*.pth of the README\'s main job)')
    parser.add_argument('--subset', default='val', help='labeled subset scored (default val)')
    parser.add_argument('--calib-samples', type=int, default=32,
                        help='training clips for static calibration (default 32)')
    parser.add_argument('--max-clips', type=int, help='score only the first N clips')
    parser.add_argument('--threads', type=int, default=2, help='torch and onnxruntime threads')
    parser.add_argument('--out', default=osp.join(REPO, 'benchmarks', 'results',
                                                  'bench_onnx_accuracy.json'))
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Export, quantize, score, report."""
    args = parse_args(argv)
    os.environ['OMP_NUM_THREADS'] = str(args.threads)
    import numpy as np
    import torch
    from mmengine.dataset import pseudo_collate
    from sklearn.metrics import roc_auc_score

    from holaframe.apis import init_detector
    from holaframe.apis.inference import test_pipeline_cfg
    from holaframe.deploy.onnx_detector import OnnxDetector
    from holaframe.deploy.onnx_export import export_onnx, stack_packed
    from holaframe.deploy.onnx_quantization import (
        PackedCalibrationReader,
        dataset_samples,
        graph_input_shapes,
        quantize_onnx_dynamic,
        quantize_onnx_static,
    )
    from holaframe.deploy.quantization import quantize_dynamic_int8
    torch.set_num_threads(args.threads)
    args.checkpoint = resolve_checkpoint(args.checkpoint)
    load_before = measure.loadavg()
    model = init_detector(args.config, args.checkpoint, device='cpu')
    cfg = model.cfg
    scope = cfg.get('default_scope', 'holaframe')
    pipeline = test_pipeline_cfg(cfg)
    dataset_cfg = dict(cfg.train_dataloader.dataset)
    dataset_cfg.update(subset=args.subset, test_mode=True)
    clips = list(dataset_samples(dataset_cfg, 10**9, seed=0, pipeline=pipeline, scope=scope))
    clips.sort(key=lambda d: d['data_samples'].metainfo['file'])
    if args.max_clips:
        clips = clips[:args.max_clips]
    labels = np.array([int(d['data_samples'].gt_label.reshape(-1)[0]) for d in clips])
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        fp32_file = osp.join(tmp, 'fp32.onnx')
        export_onnx(model, stack_packed(clips[:1]), fp32_file)
        forms = {'eager-fp32': model, 'eager-int8': quantize_dynamic_int8(model),
                 'ort-fp32': OnnxDetector(fp32_file, cfg, threads=args.threads)}
        dyn = quantize_onnx_dynamic(fp32_file, osp.join(tmp, 'dynamic.onnx'))
        forms['ort-int8-dynamic'] = OnnxDetector(dyn, cfg, threads=args.threads)
        calib = dataset_samples(cfg.train_dataloader.dataset, args.calib_samples, seed=0,
                                pipeline=pipeline, scope=scope)
        reader = PackedCalibrationReader(calib, input_shapes=graph_input_shapes(fp32_file))
        static = quantize_onnx_static(fp32_file, osp.join(tmp, 'static.onnx'), reader)
        forms['ort-int8-static'] = OnnxDetector(static, cfg, threads=args.threads)
        prepare_s = time.perf_counter() - t0
        scores: Dict[str, List[float]] = {f: [] for f in forms}
        for data in clips:
            for name, m in forms.items():
                with torch.no_grad():
                    sample = m.test_step(pseudo_collate([data]))[0]
                scores[name].append(float(sample.pred_score.reshape(-1)[0]))
    ref = np.array(scores['eager-fp32'])
    ref_auc = float(roc_auc_score(labels, ref))
    rows = []
    for name, values in scores.items():
        s = np.array(values)
        auc = float(roc_auc_score(labels, s))
        rows.append(dict(form=name, auc=auc, acc=float(np.mean((s >= 0.5) == labels)),
                         auc_diff=auc - ref_auc, max_abs_score_diff=float(np.abs(s - ref).max()),
                         mean_abs_score_diff=float(np.abs(s - ref).mean()),
                         labels_changed=int(np.sum((s >= 0.5) != (ref >= 0.5))),
                         target=(f'|AUC diff| <= {AUC_TARGET}' if 'int8' in name else ''),
                         met=(abs(auc - ref_auc) <= AUC_TARGET) if 'int8' in name else None))
    print(f'{len(clips)} {args.subset} clips ({int(labels.sum())} fake), calibration '
          f'{reader.count} training clips')
    print(f'{"form":<17} {"AUC":>7} {"ACC":>7} {"dAUC":>8} {"max|dp|":>8} {"mean|dp|":>8} '
          f'{"flips":>5}  target')
    for r in rows:
        verdict = '' if r['met'] is None else (
            f'{r["target"]}: {"met" if r["met"] else "not met"}')
        print(f'{r["form"]:<17} {r["auc"]:>7.4f} {r["acc"]:>7.4f} {r["auc_diff"]:>+8.4f} '
              f'{r["max_abs_score_diff"]:>8.1e} {r["mean_abs_score_diff"]:>8.1e} '
              f'{r["labels_changed"]:>5}  {verdict}')
    report = dict(benchmark='onnx_accuracy', config=osp.relpath(args.config, REPO),
                  checkpoint=args.checkpoint, subset=args.subset, clips=len(clips),
                  fakes=int(labels.sum()), calib_samples=reader.count,
                  loadavg_before=load_before, loadavg_after=measure.loadavg(),
                  prepare_s=prepare_s, machine=measure.machine_info(), results=rows)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(report, f, indent=2)
    print(f'written to {args.out}')
    return 0


def summarize(report: dict) -> List[Dict[str, str]]:
    """One row per form for the suite's summary (``benchmarks/run.py``)."""
    return [{'form': r['form'], 'AUC': f"{r['auc']:.4f}", 'ACC': f"{r['acc']:.4f}",
             'AUC diff': f"{r['auc_diff']:+.4f}", 'max |dp|': f"{r['max_abs_score_diff']:.1e}",
             'labels changed': str(r['labels_changed']), 'target': r['target'],
             'met': '' if r['met'] is None else ('yes' if r['met'] else 'no')}
            for r in report['results']]


if __name__ == '__main__':
    sys.exit(main())
