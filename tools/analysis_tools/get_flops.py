#!/usr/bin/env python
"""Per-module FLOPs and parameters of a two-input (video + audio) model, attention included.

Usage::

    python tools/analysis_tools/get_flops.py CONFIG [--data-root DIR] \
        [--shape video=3,16,224,224 audio=16,32] [--batch-size 1] [--max-depth 3] \
        [--cfg-options ...] [--out-json flops.json]

The model is built from ``cfg.model`` with the holaframe registry and called as
``model(inputs, mode='tensor')``. By default the inputs are real: a few clips in the
AV-Deepfake1M++ layout (generated in a temporary folder, or ``--data-root``) go through the
config's own test pipeline (else its val or train pipeline) and its data preprocessor, so the
shapes are exactly what the config feeds its model (frames, crop size, MFCC segments or
per-frame log-mel, sequence length). A config without data settings takes its shapes from the
model's ``VideoViTEncoder`` / ``AudioViTEncoder``; ``--shape`` overrides both with
standard-normal inputs of the given per-sample shapes (a leading batch dimension is added).
FLOPs are counted with fvcore, where one multiply-add counts as one flop;
``scaled_dot_product_attention`` is counted by :func:`holaframe.utils.flops.sdpa_flop_jit`
(fvcore alone would count it as zero). Element-wise ops (softmax, GELU, additions) are not
counted.
"""

import argparse
import json
import os
import os.path as osp
import sys
import tempfile
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from fvcore.nn import flop_count_table, parameter_count
from mmengine.config import Config, DictAction
from torch import nn

from holaframe.registry import MODELS
from holaframe.utils import register_all_modules
from holaframe.utils.flops import SDPA_OP, dummy_inputs, flop_count_analysis

DATALOADERS = ('test_dataloader', 'val_dataloader', 'train_dataloader')


class DictInputWrapper(nn.Module):
    """Turns positional tensors into the ``inputs`` dict of a holaframe model (for tracing).

    Args:
        model (nn.Module): Model with ``forward(inputs: dict, data_samples=None, mode=...)``.
        keys (Sequence[str]): Names of the positional tensors in ``inputs``.
    """

    def __init__(self, model: nn.Module, keys: Sequence[str]) -> None:
        super().__init__()
        self.model = model
        self.keys = list(keys)

    def forward(self, *tensors: torch.Tensor):
        inputs = dict(zip(self.keys, tensors))
        out = self.model(inputs, None, mode='tensor')
        if isinstance(out, dict):
            return tuple(out.values())
        if isinstance(out, list):
            return tuple(out)
        return out


def parse_shapes(items: Optional[Sequence[str]]) -> 'OrderedDict[str, Tuple[int, ...]]':
    """Parse ``['video=3,16,224,224', 'audio=16,32']`` into an ordered dict."""
    shapes = OrderedDict()
    for item in items or []:
        if '=' not in item:
            raise ValueError(f'tools/analysis_tools/get_flops.py: --shape entries look like '
                             f'name=d1,d2,...; got {item!r}.')
        name, dims = item.split('=', 1)
        try:
            shapes[name] = tuple(int(d) for d in dims.split(',') if d)
        except ValueError as exc:
            raise ValueError(f'tools/analysis_tools/get_flops.py: bad shape {item!r}.') from exc
    return shapes


def infer_shapes(model: nn.Module) -> 'OrderedDict[str, Tuple[int, ...]]':
    """Input shapes from the model's HiCMAE-compatible encoders (configs without data)."""
    from holaframe.models.encoders import AudioViTEncoder, VideoViTEncoder
    shapes = OrderedDict()
    for module in model.modules():
        if isinstance(module, VideoViTEncoder) and 'video' not in shapes:
            pe = module.patch_embed
            shapes['video'] = (pe.in_channels, pe.num_frames) + tuple(pe.img_size)
        elif isinstance(module, AudioViTEncoder) and 'audio' not in shapes:
            pe = module.patch_embed
            if module.input_type == 'mfcc':
                shapes['audio'] = (pe.num_segments, pe.num_coeffs)
            else:
                shapes['audio'] = (pe.in_channels, ) + tuple(pe.spec_size)
    if set(shapes) != {'video', 'audio'}:
        raise ValueError('tools/analysis_tools/get_flops.py: the config has no dataloader and '
                         'the model no ViT encoders to take input shapes from; pass --shape.')
    return OrderedDict((k, shapes[k]) for k in ('video', 'audio'))


def pipeline_inputs(cfg: Config, model: nn.Module, batch_size: int,
                    data_root: Optional[str] = None) -> 'OrderedDict[str, torch.Tensor]':
    """The tensors the config's own pipeline and data preprocessor give the model.

    Args:
        cfg (Config): Config with at least one dataloader.
        model (nn.Module): The built model (its ``data_preprocessor`` is applied).
        batch_size (int): Number of clips.
        data_root (str, optional): A dataset in the AV-Deepfake1M++ layout; a tiny one is
            generated in a temporary folder when None.
    """
    from holaframe.testing.dummy_batch import build_dummy_batch, make_tiny_avdf
    with tempfile.TemporaryDirectory() as tmp:
        if data_root is None:
            data_root = make_tiny_avdf(osp.join(tmp, 'avdf'))
        batch = build_dummy_batch(cfg, data_root, batch_size=batch_size)
        with torch.no_grad():
            data = model.data_preprocessor(batch, training=False)
    return OrderedDict((k, v) for k, v in data['inputs'].items() if torch.is_tensor(v))


def compute_flops(cfg: Config,
                  shapes: Optional[Dict[str, Tuple[int, ...]]] = None,
                  batch_size: int = 1,
                  with_has_audio: bool = True,
                  max_depth: int = 3,
                  data_root: Optional[str] = None) -> dict:
    """Build ``cfg.model`` and count its FLOPs and parameters.

    Args:
        cfg (Config): Config with a ``model`` field.
        shapes (dict, optional): Input name -> per-sample shape of random inputs; by default
            the inputs come from the config's pipeline (:func:`pipeline_inputs`), or from the
            model's encoders when the config has no dataloader.
        batch_size (int): Batch size of the inputs.
        with_has_audio (bool): Also pass ``inputs['has_audio']`` (all True) with ``shapes``.
        max_depth (int): Depth of the module table.
        data_root (str, optional): Dataset for the pipeline inputs (generated when None).

    Returns:
        dict: ``flops`` (total multiply-adds of the batch), ``flops_per_sample``,
        ``attention_flops``, ``params``, ``shapes``, ``input_source`` (``pipeline``,
        ``encoders`` or ``shape``), ``by_module`` (module -> flops), ``by_operator``,
        ``unsupported_ops``, ``table`` (str).
    """
    register_all_modules()
    model = MODELS.build(cfg.model)
    model.eval()
    if shapes:
        source, inputs = 'shape', OrderedDict(
            (k, t) for k, t in zip(shapes, dummy_inputs(list(shapes.values()), batch_size)))
    elif any(cfg.get(k) for k in DATALOADERS):
        source, inputs = 'pipeline', pipeline_inputs(cfg, model, batch_size, data_root)
    else:
        shapes = infer_shapes(model)
        source, inputs = 'encoders', OrderedDict(
            (k, t) for k, t in zip(shapes, dummy_inputs(list(shapes.values()), batch_size)))
    if source != 'pipeline' and with_has_audio and 'has_audio' not in inputs:
        inputs['has_audio'] = torch.ones(batch_size, dtype=torch.bool)
    wrapper = DictInputWrapper(model, list(inputs)).eval()
    with torch.no_grad():
        analysis = flop_count_analysis(wrapper, tuple(inputs.values()))
        total = analysis.total()
    by_module = OrderedDict()
    for name, flops in analysis.by_module().items():
        name = name[len('model.'):] if name.startswith('model.') else (name or 'model')
        if name.count('.') < max_depth:
            by_module[name] = int(flops)
    by_operator = dict(analysis.by_operator())
    return dict(
        flops=int(total),
        flops_per_sample=total / batch_size,
        attention_flops=int(by_operator.get(SDPA_OP.split('::')[-1], 0)),
        params=int(parameter_count(model)['']),
        shapes={k: list(v.shape[1:]) for k, v in inputs.items() if v.dim() > 1},
        input_source=source,
        batch_size=batch_size,
        by_module=by_module,
        by_operator=by_operator,
        unsupported_ops=dict(analysis.unsupported_ops()),
        table=flop_count_table(analysis, max_depth=max_depth, show_param_shapes=False),
    )


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='FLOPs and parameters of a holaframe model')
    parser.add_argument('config', help='config file')
    parser.add_argument('--data-root',
                        help='dataset (AV-Deepfake1M++ layout) whose clips go through the '
                        "config's pipeline; default: a tiny generated one")
    parser.add_argument('--shape', nargs='+', metavar='NAME=D1,D2,...',
                        help='random inputs of these per-sample shapes instead, e.g. '
                        'video=3,16,224,224 audio=16,32')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--max-depth', type=int, default=3, help='depth of the module table')
    parser.add_argument('--no-has-audio', action='store_true',
                        help='do not pass inputs["has_audio"]')
    parser.add_argument('--out-json', help='also write the numbers to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, xxx=yyy')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    result = compute_flops(cfg, parse_shapes(args.shape), args.batch_size,
                           with_has_audio=not args.no_has_audio, max_depth=args.max_depth,
                           data_root=args.data_root)
    print(result['table'])
    print(f'input shapes (per sample, from the {result["input_source"]}): {result["shapes"]}, '
          f'batch size {args.batch_size}')
    print(f'params: {result["params"] / 1e6:.3f} M')
    print(f'GFLOPs per sample (multiply-adds): {result["flops_per_sample"] / 1e9:.3f} '
          f'(attention: {result["attention_flops"] / args.batch_size / 1e9:.3f})')
    if result['unsupported_ops']:
        print(f'not counted (element-wise or unsupported): {result["unsupported_ops"]}')
    if args.out_json:
        os.makedirs(osp.dirname(osp.abspath(args.out_json)), exist_ok=True)
        with open(args.out_json, 'w') as f:
            json.dump({k: v for k, v in result.items() if k != 'table'}, f, indent=2)
    return result


if __name__ == '__main__':
    main()
    sys.exit(0)
