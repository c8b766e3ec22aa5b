#!/usr/bin/env python
"""Per-module FLOPs and parameters of a two-input (video + audio) model, attention included.

Usage::

    python tools/analysis_tools/get_flops.py CONFIG \
        [--shape video=3,16,224,224 audio=16,32] [--batch-size 1] [--max-depth 3] \
        [--cfg-options ...] [--out-json flops.json]

The model is built from ``cfg.model`` with the holaframe registry and called without its data
preprocessor as ``model(dict(video=..., audio=..., has_audio=...), mode='tensor')`` on
standard-normal dummy inputs of the given per-sample shapes (a leading batch dimension is
added). FLOPs are counted with fvcore, where one multiply-add counts as one flop;
``scaled_dot_product_attention`` is counted by :func:`holaframe.utils.flops.sdpa_flop_jit`
(fvcore alone would count it as zero). Element-wise ops (softmax, GELU, additions) are not
counted. Without ``--shape``, shapes are taken from the model's ``VideoViTEncoder`` /
``AudioViTEncoder`` when it has them, else the paper's input (16 RGB frames at 224 and 16 MFCC
segments of 32 coefficients) is used.
"""

import argparse
import json
import os
import os.path as osp
import sys
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from fvcore.nn import flop_count_table, parameter_count
from mmengine.config import Config, DictAction
from torch import nn

from holaframe.registry import MODELS
from holaframe.utils import register_all_modules
from holaframe.utils.flops import SDPA_OP, dummy_inputs, flop_count_analysis

PAPER_SHAPES = OrderedDict(video=(3, 16, 224, 224), audio=(16, 32))


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
    """Input shapes from the model's HiCMAE-compatible encoders, else the paper's input."""
    from holaframe.models.encoders import AudioViTEncoder, VideoViTEncoder
    shapes = OrderedDict(PAPER_SHAPES)
    for module in model.modules():
        if isinstance(module, VideoViTEncoder):
            pe = module.patch_embed
            shapes['video'] = (pe.in_channels, pe.num_frames) + tuple(pe.img_size)
            break
    for module in model.modules():
        if isinstance(module, AudioViTEncoder):
            pe = module.patch_embed
            if module.input_type == 'mfcc':
                shapes['audio'] = (pe.num_segments, pe.num_coeffs)
            else:
                shapes['audio'] = (pe.in_channels, ) + tuple(pe.spec_size)
            break
    return shapes


def compute_flops(cfg: Config,
                  shapes: Optional[Dict[str, Tuple[int, ...]]] = None,
                  batch_size: int = 1,
                  with_has_audio: bool = True,
                  max_depth: int = 3) -> dict:
    """Build ``cfg.model`` and count its FLOPs and parameters.

    Args:
        cfg (Config): Config with a ``model`` field.
        shapes (dict, optional): Input name -> per-sample shape; inferred when None.
        batch_size (int): Batch size of the dummy inputs.
        with_has_audio (bool): Also pass ``inputs['has_audio']`` (all True).
        max_depth (int): Depth of the module table.

    Returns:
        dict: ``flops`` (total multiply-adds of the batch), ``flops_per_sample``,
        ``attention_flops``, ``params``, ``shapes``, ``by_module`` (module -> flops),
        ``by_operator``, ``unsupported_ops``, ``table`` (str).
    """
    register_all_modules()
    model = MODELS.build(cfg.model)
    model.eval()
    shapes = OrderedDict(shapes) if shapes else infer_shapes(model)
    tensors = dummy_inputs(list(shapes.values()), batch_size)
    keys = list(shapes)
    if with_has_audio and 'has_audio' not in shapes:
        keys.append('has_audio')
        tensors.append(torch.ones(batch_size, dtype=torch.bool))
    wrapper = DictInputWrapper(model, keys).eval()
    with torch.no_grad():
        analysis = flop_count_analysis(wrapper, tuple(tensors))
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
        shapes={k: list(v) for k, v in shapes.items()},
        batch_size=batch_size,
        by_module=by_module,
        by_operator=by_operator,
        unsupported_ops=dict(analysis.unsupported_ops()),
        table=flop_count_table(analysis, max_depth=max_depth, show_param_shapes=False),
    )


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='FLOPs and parameters of a holaframe model')
    parser.add_argument('config', help='config file')
    parser.add_argument('--shape', nargs='+', metavar='NAME=D1,D2,...',
                        help='per-sample input shapes, e.g. video=3,16,224,224 audio=16,32')
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
                           with_has_audio=not args.no_has_audio, max_depth=args.max_depth)
    print(result['table'])
    print(f'input shapes (per sample): {result["shapes"]}, batch size {args.batch_size}')
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
