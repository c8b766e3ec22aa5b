"""Export a detector to ONNX: ``python tools/deployment/export_onnx.py CONFIG CHECKPOINT OUT.onnx``.

The graph takes the stacked outputs of the config's test pipeline (``video`` float 0-255,
``audio``, ``has_audio``) with a dynamic batch axis and returns ``clip_score`` (the fake
probability) and, for a model with a frame-level head, ``frame_scores``; the video
normalisation is inside the graph (see :mod:`holaframe.deploy.onnx_export`). The example input
that fixes the other sizes is a synthetic 10 s clip run through the test pipeline
(``--sample-video`` uses a video of yours).

A whole-video model (``test_window``, a localisation head) is exported as the network of one
test window (the example clip's first window), with ``frame_offsets`` for a localisation head;
its window and post-processor settings are recorded in the file, and the windows are cut,
stitched and post-processed in Python at run time (docs/deployment.md).

``--int8 dynamic`` or ``--int8 static`` writes an int8 graph instead of the fp32 one
(onnxruntime's ``quantize_dynamic`` / ``quantize_static``, see
:mod:`holaframe.deploy.onnx_quantization`). Static calibration reads ``--calib-samples`` clips
of the config's training set (``train_dataloader.dataset``), through the config's test pipeline
by default (the ranges inference will see, and the exported shapes), or its train pipeline with
``--calib-pipeline train``; the clips of a whole-video model are cut into its test windows.
After writing, the file is checked: onnxruntime scores the example clip (all of its windows)
and the fp32 graph's score must match PyTorch's within ``--atol``.
"""

import argparse
import copy
import os
import os.path as osp
import sys
import tempfile

import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope

from holaframe.apis import init_detector
from holaframe.apis.inference import test_pipeline_cfg
from holaframe.deploy.onnx_detector import OnnxDetector
from holaframe.deploy.onnx_export import export_onnx, stack_packed
from holaframe.deploy.onnx_quantization import (
    INT8_MODES,
    PackedCalibrationReader,
    dataset_samples,
    graph_input_shapes,
    quantize_onnx_dynamic,
    quantize_onnx_static,
)
from holaframe.utils.checkpoint import set_unsafe_load


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Export a holaframe detector to ONNX')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file (weights only)')
    parser.add_argument('out', help='the .onnx file to write')
    parser.add_argument('--int8', choices=INT8_MODES,
                        help='write an int8 graph: dynamic (no calibration) or static '
                        '(calibrated on the training set)')
    parser.add_argument('--calib-samples', type=int, default=32,
                        help='training clips for static calibration (default 32)')
    parser.add_argument('--calib-pipeline', choices=['test', 'train'], default='test',
                        help='pipeline the calibration clips go through (default test: the '
                        'exported shapes and the ranges inference sees)')
    parser.add_argument('--calib-seed', type=int, default=0, help='seed of the clip choice')
    parser.add_argument('--sample-video', help='video giving the example input (default: a '
                        'synthetic 10 s clip)')
    parser.add_argument('--opset', type=int, default=17, help='ONNX opset (default 17)')
    parser.add_argument('--atol', type=float, default=1e-4,
                        help='largest |score difference| of the fp32 graph against PyTorch')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='full pickle load of a trusted checkpoint (can run code)')
    args = parser.parse_args(argv)
    if args.calib_samples < 1:
        parser.error(f'--calib-samples must be at least 1, got {args.calib_samples}')
    return args


def example_sample(cfg, video: str, tmp: str) -> dict:
    """One clip through the config's test pipeline (a synthetic one without ``video``)."""
    if video is None:
        from holaframe.testing import generate_synthetic_avdf
        meta = generate_synthetic_avdf(tmp, 1, 0, 0, 0, seed=0, num_silent=0,
                                       duration_range=(10.0, 10.0), write_test_labels=False)
        video = osp.join(tmp, 'train', meta['train'][0]['file'])
    elif not osp.isfile(video):
        raise FileNotFoundError(f'--sample-video {video}: no such file')
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'holaframe')):
        pipeline = Compose(test_pipeline_cfg(cfg))
    data = pipeline(dict(filename=osp.abspath(video), file=osp.basename(video), sample_idx=0,
                         gt_label=-1, subset='export'))
    if data is None:
        raise RuntimeError(f'{video}: the test pipeline returned None')
    return data


def calibration_reader(cfg, args, onnx_file: str) -> PackedCalibrationReader:
    """Calibration batches from the config's training set."""
    train = cfg.get('train_dataloader')
    if train is None or train.get('dataset') is None:
        raise KeyError(f'{args.config}: no train_dataloader.dataset to calibrate on')
    pipeline = test_pipeline_cfg(cfg) if args.calib_pipeline == 'test' else None
    samples = dataset_samples(train.dataset, args.calib_samples, seed=args.calib_seed,
                              pipeline=pipeline, scope=cfg.get('default_scope', 'holaframe'))
    return PackedCalibrationReader(samples, input_shapes=graph_input_shapes(onnx_file),
                                   test_window=OnnxDetector(onnx_file, cfg).test_window)


def example_score(model, data: dict) -> float:
    """``pred_score`` of ``model.test_step`` (PyTorch or :class:`OnnxDetector`) on one packed
    clip (a copy: the sample is not changed)."""
    with torch.no_grad():
        sample = model.test_step(pseudo_collate([copy.deepcopy(data)]))[0]
    return float(sample.pred_score.reshape(-1)[0])


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return export(args)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f'export_onnx.py: error: {message}', file=sys.stderr)
        return 1


def export(args) -> int:
    """Export (and quantize) as the command line says; 0 when the file is written."""
    set_unsafe_load(args.unsafe_load)
    model = init_detector(args.config, args.checkpoint, device='cpu')
    cfg = model.cfg
    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = example_sample(cfg, args.sample_video, tmp)
        inputs = stack_packed([data])
        fp32_file = osp.join(tmp, 'fp32.onnx') if args.int8 else args.out
        meta = dict(config=osp.basename(args.config),
                    checkpoint=osp.basename(args.checkpoint))
        names = export_onnx(model, inputs, fp32_file, opset=args.opset, metadata=meta)
        reference = example_score(model, data)
        got = example_score(OnnxDetector(fp32_file, cfg), data)
        if abs(got - reference) > args.atol:
            raise RuntimeError(f'{fp32_file}: the exported graph scores the example clip '
                               f'{got:.6f}, PyTorch {reference:.6f} (|diff| > --atol '
                               f'{args.atol})')
        print(f'fp32 graph ({", ".join(names)}): example score {got:.6f}, PyTorch '
              f'{reference:.6f}', file=sys.stderr)
        if args.int8 == 'dynamic':
            quantize_onnx_dynamic(fp32_file, args.out)
        elif args.int8 == 'static':
            reader = calibration_reader(cfg, args, fp32_file)
            quantize_onnx_static(fp32_file, args.out, reader)
            print(f'calibrated on {reader.count} training clip(s) ({args.calib_pipeline} '
                  f'pipeline)', file=sys.stderr)
        if args.int8:
            score = example_score(OnnxDetector(args.out, cfg), data)
            print(f'int8 ({args.int8}) graph: example score {score:.6f} (fp32 {got:.6f})',
                  file=sys.stderr)
    size = osp.getsize(args.out) / 2**20
    print(f'wrote {args.out} ({size:.1f} MiB)', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
