#!/usr/bin/env python
"""Convert a HiCMAE (or AVF-MAE++ with the same encoder layout) checkpoint to holaframe names.

Usage::

    python tools/model_converters/hicmae2holaframe.py SRC DST

Handles pre-training (``PretrainAudioVisionTransformer``) and fine-tuning
(``AudioVisionTransformer``) checkpoints wrapped as ``{'model': ...}``, ``{'module': ...}``,
``{'state_dict': ...}`` or stored at the top level. The file (a local path or an ``http(s)://``
URL) is read with ``torch.load(weights_only=True)`` and only ``argparse.Namespace`` (HiCMAE pickles
its training arguments) and numpy arrays allow-listed (``--unsafe-load`` for a trusted file that
needs more). The output is a plain ``{'state_dict': ..., 'meta': ...}`` file whose keys
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

The token grids the encoders' positions were learned on are recorded as
``video_encoder.pos_grid`` and ``audio_encoder.pos_grid``, so that fine-tuning at another
resolution maps the positions: from ``--video-grid`` / ``--audio-grid`` when given, else from the
checkpoint's training arguments (HiCMAE stores ``window_size`` / ``window_size_audio``, or
``input_size``, ``num_frames``, ``input_size_audio``, ``num_mel_bins``). When neither says, no
grid is written and the tool says so (HiCMAE's released models: ``--video-grid 8,10,10
--audio-grid 16,8``, i.e. 16 frames at 160 px and an fbank of 256 x 128).

Fine-tune from it with ``--cfg-options pretrained=DST`` on a HOLA config.
"""

import argparse
import os.path as osp
import re
import sys
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch

from holaframe.utils.atomic_io import atomic_torch_save
from holaframe.utils.checkpoint import (
    load_checkpoint_safely,
    namespace_to_dict,
    set_unsafe_load,
    unwrap_state_dict,
)

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


def token_grids(args: dict) -> Dict[str, Tuple[int, ...]]:
    """Encoder token grids recorded in HiCMAE's training arguments (missing ones left out).

    Args:
        args (dict): The checkpoint's ``args`` (see :func:`namespace_to_dict`), may be empty.
    """
    grids = {}

    def _ints(value):
        ok = isinstance(value, (list, tuple)) and value and all(isinstance(v, int) for v in value)
        return tuple(value) if ok else None

    video, audio = _ints(args.get('window_size')), _ints(args.get('window_size_audio'))
    size, frames = args.get('input_size'), args.get('num_frames')
    if video is None and isinstance(size, int) and isinstance(frames, int):
        video = (frames // 2, size // 16, size // 16)  # HiCMAE: tubelet 2, patch 16
    length, bins = args.get('input_size_audio'), args.get('num_mel_bins')
    if audio is None and isinstance(length, int) and isinstance(bins, int):
        audio = (length // 16, bins // 16)
    if video:
        grids['video'] = video
    if audio:
        grids['audio'] = audio
    return grids


def convert_checkpoint(src: str, dst: str, skip_unknown: bool = False,
                       video_grid: Optional[Tuple[int, ...]] = None,
                       audio_grid: Optional[Tuple[int, ...]] = None) -> dict:
    """Read ``src`` safely, convert, write ``{'state_dict', 'meta'}`` to ``dst``.

    Args:
        src (str): HiCMAE checkpoint.
        dst (str): Output path (parent folders are created).
        skip_unknown (bool): Drop unknown keys instead of failing.
        video_grid (tuple, optional): Video token grid of the pre-training (else from the
            checkpoint's arguments, else not recorded).
        audio_grid (tuple, optional): Audio token grid, likewise.

    Returns:
        dict: The ``meta`` written.
    """
    ckpt = load_checkpoint_safely(src)
    state = unwrap_state_dict(ckpt)
    converted, dropped = convert_state_dict(state, skip_unknown=skip_unknown)
    args = namespace_to_dict(ckpt.get('args')) if isinstance(ckpt, dict) else {}
    grids = token_grids(args)
    grids.update({k: tuple(v) for k, v in (('video', video_grid), ('audio', audio_grid)) if v})
    for name, grid in grids.items():
        if any(k.startswith(f'{name}_encoder.') for k in converted):
            converted[f'{name}_encoder.pos_grid'] = torch.tensor(grid, dtype=torch.long)
    meta = dict(
        converter='tools/model_converters/hicmae2holaframe.py',
        source=osp.basename(src),
        kind=checkpoint_kind(state),
        num_tensors=len(converted),
        dropped_keys=dropped,
        architecture=_describe(state),
        token_grids={k: list(v) for k, v in grids.items()},
    )
    if isinstance(ckpt, dict):
        if 'args' in ckpt:
            meta['hicmae_args'] = args
        if isinstance(ckpt.get('epoch'), (int, str)):
            meta['epoch'] = ckpt['epoch']
    atomic_torch_save(dict(state_dict=converted, meta=meta), dst)
    return meta


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='HiCMAE / AVF-MAE++ checkpoint (.pth)')
    parser.add_argument('dst', help='output holaframe checkpoint')
    parser.add_argument(
        '--skip-unknown', action='store_true',
        help='drop keys of modules holaframe does not have instead of failing')
    parser.add_argument(
        '--video-grid', type=_grid, metavar='T,H,W',
        help='video token grid of the pre-training (HiCMAE release: 8,10,10); default: from '
        "the checkpoint's training arguments")
    parser.add_argument(
        '--audio-grid', type=_grid, metavar='T,F',
        help='audio token grid of the pre-training (HiCMAE release: 16,8); default: from the '
        "checkpoint's training arguments")
    parser.add_argument(
        '--unsafe-load', action='store_true',
        help='read src with a full pickle load, which can run code: only for a file you trust '
        '(default: weights only; src may be a local file or an http(s) URL)')
    return parser.parse_args(argv)


def _grid(text: str) -> Tuple[int, ...]:
    try:
        grid = tuple(int(v) for v in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError(f'a grid looks like 8,10,10; got {text!r}') from None
    if not grid or min(grid) <= 0:
        raise argparse.ArgumentTypeError(f'grid sizes must be positive; got {text!r}')
    return grid


def main(argv=None) -> int:
    args = parse_args(argv)
    set_unsafe_load(args.unsafe_load)
    meta = convert_checkpoint(args.src, args.dst, skip_unknown=args.skip_unknown,
                              video_grid=args.video_grid, audio_grid=args.audio_grid)
    arch = meta['architecture']
    print(f'converted {meta["kind"]} checkpoint {args.src} -> {args.dst}: '
          f'{meta["num_tensors"]} tensors; video dim {arch["video"]["embed_dim"]} depth '
          f'{arch["video"]["depth"]}, audio dim {arch["audio"]["embed_dim"]} depth '
          f'{arch["audio"]["depth"]}, fusion depth {arch["fusion"]["depth"]}; token grids '
          f'{meta["token_grids"]}')
    unknown = [n for n in ('video', 'audio') if n not in meta['token_grids']]
    if unknown:
        print(f'warning: the {" and ".join(unknown)} token grid of the pre-training is unknown '
              f'(not in the checkpoint\'s arguments): the encoders will assume their own grid. '
              f'Pass --video-grid / --audio-grid (HiCMAE release: 8,10,10 and 16,8).')
    if meta['dropped_keys']:
        print(f'dropped {len(meta["dropped_keys"])} unknown keys: {meta["dropped_keys"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
