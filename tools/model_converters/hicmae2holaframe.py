#!/usr/bin/env python
"""Convert a HiCMAE (or AVF-MAE++ with the same encoder layout) checkpoint to holaframe names.

Usage::

    python tools/model_converters/hicmae2holaframe.py SRC DST

Handles pre-training (``PretrainAudioVisionTransformer``) and fine-tuning
(``AudioVisionTransformer``) checkpoints wrapped as ``{'model': ...}``, ``{'module': ...}``,
``{'state_dict': ...}`` or stored at the top level. The file is read with
``torch.load(weights_only=True)`` and only ``argparse.Namespace`` allow-listed (HiCMAE pickles its
training arguments). The output is a plain ``{'state_dict': ..., 'meta': ...}`` file whose keys
follow holaframe's naming contract:

==============================  ==================================
HiCMAE                          holaframe
==============================  ==================================
``encoder.``                    ``video_encoder.``
``encoder_audio.``              ``audio_encoder.``
``encoder_fusion.``             ``fusion_encoder.``
``decoder.``                    ``video_decoder.``
``decoder_audio.``              ``audio_decoder.``
``encoder_to_decoder.``         ``video_encoder_to_decoder.``
``encoder_to_decoder_audio.``   ``audio_encoder_to_decoder.``
``mask_token``                  ``video_mask_token``
``mask_token_audio``            ``audio_mask_token``
``video_layer_weights``         ``head.video_layer_weights``
``audio_layer_weights``         ``head.audio_layer_weights``
``fc_norm.``                    ``head.fc_norm.``
``head.``                       ``head.fc.``
==============================  ==================================

Load the encoders with e.g.
``init_cfg=dict(type='Pretrained', checkpoint=DST, prefix='video_encoder.')``.
"""

import argparse
import os
import os.path as osp
import re
import sys
from collections import OrderedDict
from typing import Dict, List, Tuple

import torch

from holaframe.utils.checkpoint import load_checkpoint_safely, namespace_to_dict, unwrap_state_dict

#: (HiCMAE prefix, holaframe prefix); the longest matching prefix wins.
PREFIX_MAP: Tuple[Tuple[str, str], ...] = (
    ('encoder_to_decoder_audio.', 'audio_encoder_to_decoder.'),
    ('encoder_to_decoder.', 'video_encoder_to_decoder.'),
    ('encoder_fusion.', 'fusion_encoder.'),
    ('encoder_audio.', 'audio_encoder.'),
    ('encoder.', 'video_encoder.'),
    ('decoder_audio.', 'audio_decoder.'),
    ('decoder.', 'video_decoder.'),
    ('fc_norm.', 'head.fc_norm.'),
    ('head.', 'head.fc.'),
)
#: Whole-key renames.
KEY_MAP: Dict[str, str] = {
    'mask_token': 'video_mask_token',
    'mask_token_audio': 'audio_mask_token',
    'video_layer_weights': 'head.video_layer_weights',
    'audio_layer_weights': 'head.audio_layer_weights',
}
#: Keys that HiCMAE never stores as weights but other variants might (learnable tables).
_UNSUPPORTED_SUFFIXES = ('pos_embed', 'cls_token')

_WB = r'\.(weight|bias)'
_ATTN = rf'attn\.(qkv\.weight|q_bias|v_bias|proj{_WB})'
_BLOCK = rf'(norm1{_WB}|norm2{_WB}|{_ATTN}|mlp\.fc[12]{_WB}|gamma_[12])'
_CROSS = rf'(cross_attn\.(q\.weight|kv\.weight|q_bias|v_bias|proj{_WB})|cross_norm[12]{_WB}' \
    rf'|gamma_0)'
#: Parameter names inside HiCMAE's encoders (relative to ``encoder.`` / ``encoder_audio.`` and
#: ``encoder_fusion.``). Encoder keys outside this layout (e.g. AVF-MAE++'s local-global blocks)
#: are refused instead of being renamed into keys no holaframe encoder has.
ENCODER_LAYOUT = re.compile(rf'^(patch_embed\.proj{_WB}|blocks\.\d+\.{_BLOCK}|norm{_WB})$')
FUSION_LAYOUT = re.compile(
    rf'^(blocks(_audio)?\.\d+\.({_BLOCK}|{_CROSS})|norm(_audio)?{_WB})$')
_LAYOUTS = (('encoder_fusion.', FUSION_LAYOUT), ('encoder_audio.', ENCODER_LAYOUT),
            ('encoder.', ENCODER_LAYOUT))


def convert_key(key: str) -> str:
    """Map one HiCMAE state-dict key to its holaframe name.

    Args:
        key (str): HiCMAE key.

    Returns:
        str: holaframe key.

    Raises:
        KeyError: The key belongs to no known HiCMAE module.
    """
    if key in KEY_MAP:
        return KEY_MAP[key]
    if key.split('.')[-1] in _UNSUPPORTED_SUFFIXES:
        raise KeyError(
            f'tools/model_converters/hicmae2holaframe.py: {key!r} is a learnable position '
            'table / class token; holaframe encoders use HiCMAE\'s fixed sin-cos tables '
            '(use_learnable_pos_emb=False in every released HiCMAE config).')
    for src, layout in _LAYOUTS:
        if key.startswith(src) and not layout.match(key[len(src):]):
            raise KeyError(
                f'tools/model_converters/hicmae2holaframe.py: {key!r} is not part of HiCMAE\'s '
                'encoder layout (patch_embed.proj, blocks.i.{norm1,attn,norm2,mlp}, norm; '
                'fusion blocks also cross_attn, cross_norm1/2), so no holaframe encoder can '
                'load it.')
    for src, dst in PREFIX_MAP:
        if key.startswith(src):
            return dst + key[len(src):]
    raise KeyError(f'tools/model_converters/hicmae2holaframe.py: unknown HiCMAE key {key!r}.')


def convert_state_dict(state_dict: Dict[str, torch.Tensor],
                       skip_unknown: bool = False
                       ) -> Tuple['OrderedDict[str, torch.Tensor]', List[str]]:
    """Rename every key of a HiCMAE state dict.

    Args:
        state_dict (dict): HiCMAE weights (already unwrapped).
        skip_unknown (bool): Drop keys of unknown modules instead of raising.

    Returns:
        tuple: (converted state dict, list of dropped keys).
    """
    converted, dropped = OrderedDict(), []
    for key, value in state_dict.items():
        try:
            new_key = convert_key(key)
        except KeyError:
            if not skip_unknown:
                raise
            dropped.append(key)
            continue
        converted[new_key] = value.detach().clone().contiguous()
    return converted, dropped


def checkpoint_kind(state_dict: Dict[str, torch.Tensor]) -> str:
    """``'pretrain'`` when decoder weights are present, else ``'finetune'``."""
    if any(k.startswith(('decoder.', 'decoder_audio.')) or k.startswith('mask_token')
           for k in state_dict):
        return 'pretrain'
    return 'finetune'


def _describe(state_dict: Dict[str, torch.Tensor]) -> dict:
    info = {}
    for name, prefix in (('video', 'encoder.'), ('audio', 'encoder_audio.'),
                         ('fusion', 'encoder_fusion.')):
        blocks = {k[len(prefix):].split('.')[1] for k in state_dict
                  if k.startswith(prefix + 'blocks.')}
        norm = state_dict.get(prefix + 'norm.weight')
        info[name] = dict(depth=len(blocks),
                          embed_dim=int(norm.shape[0]) if norm is not None else None)
    return info


def convert_checkpoint(src: str, dst: str, skip_unknown: bool = False) -> dict:
    """Read ``src`` safely, convert, write ``{'state_dict', 'meta'}`` to ``dst``.

    Args:
        src (str): HiCMAE checkpoint.
        dst (str): Output path (parent folders are created).
        skip_unknown (bool): Drop unknown keys instead of failing.

    Returns:
        dict: The ``meta`` written.
    """
    ckpt = load_checkpoint_safely(src)
    state = unwrap_state_dict(ckpt)
    converted, dropped = convert_state_dict(state, skip_unknown=skip_unknown)
    meta = dict(
        converter='tools/model_converters/hicmae2holaframe.py',
        source=osp.basename(src),
        kind=checkpoint_kind(state),
        num_tensors=len(converted),
        dropped_keys=dropped,
        architecture=_describe(state),
    )
    if isinstance(ckpt, dict):
        if 'args' in ckpt:
            meta['hicmae_args'] = namespace_to_dict(ckpt['args'])
        if isinstance(ckpt.get('epoch'), (int, str)):
            meta['epoch'] = ckpt['epoch']
    out_dir = osp.dirname(osp.abspath(dst))
    os.makedirs(out_dir, exist_ok=True)
    torch.save(dict(state_dict=converted, meta=meta), dst)
    return meta


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='HiCMAE / AVF-MAE++ checkpoint (.pth)')
    parser.add_argument('dst', help='output holaframe checkpoint')
    parser.add_argument(
        '--skip-unknown', action='store_true',
        help='drop keys of modules holaframe does not have instead of failing')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    meta = convert_checkpoint(args.src, args.dst, skip_unknown=args.skip_unknown)
    arch = meta['architecture']
    print(f'converted {meta["kind"]} checkpoint {args.src} -> {args.dst}: '
          f'{meta["num_tensors"]} tensors; video dim {arch["video"]["embed_dim"]} depth '
          f'{arch["video"]["depth"]}, audio dim {arch["audio"]["embed_dim"]} depth '
          f'{arch["audio"]["depth"]}, fusion depth {arch["fusion"]["depth"]}')
    if meta['dropped_keys']:
        print(f'dropped {len(meta["dropped_keys"])} unknown keys: {meta["dropped_keys"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
