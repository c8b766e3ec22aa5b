#!/usr/bin/env python
"""Convert an AVF-MAE++ checkpoint to holaframe names, checked against holaframe's modules.

Usage::

    python tools/model_converters/avfmae2holaframe.py SRC DST [--config CONFIG]

SRC is a checkpoint of AVF-MAE++ (Wu et al., CVPR 2025; github.com/XuecWu/AVF-MAE): its
pre-training model (``PretrainAudioVisionTransformer``: local-global encoders, fusion encoder,
decoders) or a fine-tuned ``AudioVisionTransformer``, wrapped as ``{'model': ...}``,
``{'module': ...}``, ``{'state_dict': ...}`` or at the top level. The file is read with
``torch.load(weights_only=True)`` (only ``argparse.Namespace`` and plain data allow-listed;
AVF-MAE++ pickles its training arguments). Nothing is downloaded.

Key map (the longest matching prefix wins; the rest of each key is unchanged):

==========================================  ==========================================
AVF-MAE++                                   holaframe
==========================================  ==========================================
``encoder.lg_region_tokens``                ``video_encoder.regions.region_tokens``
``encoder_audio.lg_region_tokens``          ``audio_encoder.regions.region_tokens``
``encoder.``                                ``video_encoder.``
``encoder_audio.``                          ``audio_encoder.``
``encoder_fusion.Iterative_Refinement_Module.``  ``fusion_encoder.refinement.``
``encoder_fusion.``                         ``fusion_encoder.``
``decoder.`` / ``decoder_audio.``           ``video_decoder.`` / ``audio_decoder.``
``encoder_to_decoder.``                     ``video_encoder_to_decoder.``
``encoder_to_decoder_audio.``               ``audio_encoder_to_decoder.``
``mask_token`` / ``mask_token_audio``       ``video_mask_token`` / ``audio_mask_token``
==========================================  ==========================================

A fine-tuned checkpoint's emotion classifier (``fc_norm``, ``head``, ``layer_weights_video``,
``layer_weights_audio``) has no holaframe counterpart: it is left out and listed.

Checks, before anything is written (a failed check writes nothing and exits with status 1):

* every key maps, and the mapped tensors are exactly the state of holaframe's
  ``AVFMAEVideoEncoder``, ``AVFMAEAudioEncoder`` and ``AVFMAEFusionEncoder`` (plus, for a
  pre-training checkpoint, the ``AVMAEPretrainer`` decoders, projections and mask tokens) built
  with the checkpoint's own widths and depths: unmapped keys are listed in full, missing ones
  (a partial model, e.g. no fusion encoder) are refused;
* with ``--config``: the tensors fit that config's model (the parts both have), else the
  first mismatching keys and shapes are listed (e.g. a 768-wide checkpoint for a 512-wide
  config).

The token grids the positions were learned on and the region grids of the region tokens are
recorded (``*_encoder.pos_grid``, ``*_encoder.regions.region_grid``) so that fine-tuning at
another size maps them: from ``--video-grid`` / ``--audio-grid`` / ``--video-region-size`` /
``--audio-region-size`` when given, else from the checkpoint's arguments (``window_size``,
``window_size_audio``, ``lg_region_size``, ``lg_region_size_audio``), else AVF-MAE++'s released
setting (160 px, 16 frames: ``(8, 10, 10)``; fbank 256 x 128: ``(16, 8)``; regions
``(2, 5, 10)`` and ``(4, 4)``). The output is ``{'state_dict': ..., 'meta': ...}``; ``meta``
records the source's SHA-256, the kind, the architecture and where each grid came from.
"""

import argparse
import copy
import hashlib
import math
import os
import os.path as osp
import re
import sys
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import DictAction

from holaframe.utils.checkpoint import (
    load_checkpoint_safely,
    namespace_to_dict,
    set_unsafe_load,
    unwrap_state_dict,
)

_TOOL = 'tools/model_converters/avfmae2holaframe.py'

#: (AVF-MAE++ prefix, holaframe prefix), longest first.
PREFIX_MAP: Tuple[Tuple[str, str], ...] = (
    ('encoder_fusion.Iterative_Refinement_Module.', 'fusion_encoder.refinement.'),
    ('encoder_to_decoder_audio.', 'audio_encoder_to_decoder.'),
    ('encoder_to_decoder.', 'video_encoder_to_decoder.'),
    ('encoder_fusion.', 'fusion_encoder.'),
    ('encoder_audio.', 'audio_encoder.'),
    ('encoder.', 'video_encoder.'),
    ('decoder_audio.', 'audio_decoder.'),
    ('decoder.', 'video_decoder.'),
)
#: Whole-key renames.
KEY_MAP: Dict[str, str] = {
    'encoder.lg_region_tokens': 'video_encoder.regions.region_tokens',
    'encoder_audio.lg_region_tokens': 'audio_encoder.regions.region_tokens',
    'mask_token': 'video_mask_token',
    'mask_token_audio': 'audio_mask_token',
}
#: The fine-tuned AVF-MAE++ classifier (no holaframe counterpart; left out and listed).
CLASSIFIER_KEYS = ('fc_norm.weight', 'fc_norm.bias', 'head.weight', 'head.bias',
                   'layer_weights_video', 'layer_weights_audio')
#: AVF-MAE++'s released pre-training setting (every released size).
RELEASE_GRIDS = dict(video=(8, 10, 10), audio=(16, 8))
RELEASE_REGIONS = dict(video=(2, 5, 10), audio=(4, 4))
#: Buffers the converter adds (they are not in AVF-MAE++'s state dicts).
GRID_KEYS = dict(video=('video_encoder.pos_grid', 'video_encoder.regions.region_grid'),
                 audio=('audio_encoder.pos_grid', 'audio_encoder.regions.region_grid'))


class ConversionError(ValueError):
    """The checkpoint cannot be converted as asked; nothing was written."""


def convert_key(key: str) -> Optional[str]:
    """holaframe name of an AVF-MAE++ key, or None when it has none."""
    if key in KEY_MAP:
        return KEY_MAP[key]
    for src, dst in PREFIX_MAP:
        if key.startswith(src):
            return dst + key[len(src):]
    return None


def revert_key(key: str) -> Optional[str]:
    """AVF-MAE++ name of a converted key (the inverse of :func:`convert_key`), or None."""
    inverse = {v: k for k, v in KEY_MAP.items()}
    if key in inverse:
        return inverse[key]
    for src, dst in PREFIX_MAP:
        if key.startswith(dst):
            return src + key[len(dst):]
    return None


def convert_state_dict(state: Dict[str, torch.Tensor]
                       ) -> Tuple['OrderedDict[str, torch.Tensor]', List[str], List[str]]:
    """Rename every key.

    Returns:
        tuple: (converted state dict, classifier keys left out, keys with no holaframe name).
    """
    converted, classifier, unmapped = OrderedDict(), [], []
    for key, value in state.items():
        if key in CLASSIFIER_KEYS:
            classifier.append(key)
            continue
        new_key = convert_key(key)
        if new_key is None:
            unmapped.append(key)
        else:
            converted[new_key] = value.detach().clone().contiguous()
    return converted, classifier, unmapped


def _blocks(state: Dict[str, torch.Tensor], prefix: str) -> int:
    found = {int(m.group(1)) for k in state for m in [re.match(re.escape(prefix) + r'(\d+)\.', k)]
             if m}
    return max(found) + 1 if found else 0


def _lg_options(state: Dict[str, torch.Tensor], prefix: str) -> dict:
    """LGBlock options visible in the keys of block 0 (``prefix`` = ``video_encoder.``)."""
    block = prefix + 'blocks.0.'
    options = dict(
        first_attn_type='cross' if block + 'first_attn_norm1.weight' in state else 'self',
        third_attn_type='cross' if block + 'third_attn_norm1.weight' in state else 'self',
        no_second=block + 'second_attn_norm0.weight' not in state)

    def same(a: str, b: str) -> bool:
        x, y = state.get(block + a + '.q.weight'), state.get(block + b + '.q.weight')
        return x is not None and y is not None and (x.data_ptr() == y.data_ptr()
                                                    or torch.equal(x, y))

    options['attn_param_sharing_all'] = not options['no_second'] and same('first_attn',
                                                                          'second_attn')
    options['attn_param_sharing_first_third'] = (not options['attn_param_sharing_all']
                                                 and same('first_attn', 'third_attn'))
    return options


def _grid_from_args(args: dict, key: str) -> Optional[Tuple[int, ...]]:
    value = args.get(key)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, int) for v in value):
        return tuple(value)
    return None


def resolve_grids(args: dict, overrides: Dict[str, Optional[Sequence[int]]]) -> Dict[str, dict]:
    """Token grid and region size of each encoder, and where each came from.

    Args:
        args (dict): The checkpoint's training arguments (may be empty).
        overrides (dict): ``video_grid``, ``audio_grid``, ``video_region_size``,
            ``audio_region_size`` given on the command line (None = not given).
    """
    out = {}
    for name, grid_arg, region_arg in (('video', 'window_size', 'lg_region_size'),
                                       ('audio', 'window_size_audio', 'lg_region_size_audio')):
        entry = {}
        for what, arg, release in (('grid', grid_arg, RELEASE_GRIDS[name]),
                                   ('region_size', region_arg, RELEASE_REGIONS[name])):
            given = overrides.get(f'{name}_{what}')
            from_args = _grid_from_args(args, arg)
            if given:
                entry[what], entry[what + '_from'] = tuple(given), 'command line'
            elif from_args:
                entry[what], entry[what + '_from'] = from_args, f'checkpoint argument {arg}'
            else:
                entry[what], entry[what + '_from'] = release, 'AVF-MAE++ release setting'
        out[name] = entry
    return out


def describe(state: Dict[str, torch.Tensor], grids: Dict[str, dict]) -> dict:
    """Architecture of a converted state dict (widths, depths, patch and region layout).

    Raises:
        ConversionError: A modality encoder or the fusion encoder is absent, the encoders are
            not local-global ones, or the region tokens do not fill the region grid.
    """
    for part, src in (('video_encoder', 'encoder.'), ('audio_encoder', 'encoder_audio.'),
                      ('fusion_encoder', 'encoder_fusion.')):
        if not any(k.startswith(part + '.') for k in state):
            raise ConversionError(
                f'{_TOOL}: the checkpoint has no {part.replace("_", " ")} (no {src}* tensor); '
                'an AVF-MAE++ checkpoint holds both modality encoders and the fusion encoder. '
                'Nothing was written.')
    arch = {}
    for name in ('video', 'audio'):
        prefix = f'{name}_encoder.'
        if prefix + 'regions.region_tokens' not in state:
            hint = (' It has HiCMAE blocks (attn.qkv): use '
                    'tools/model_converters/hicmae2holaframe.py.'
                    if any(k.startswith(prefix + 'blocks.0.attn.') for k in state) else '')
            raise ConversionError(f'{_TOOL}: the {name} encoder has no lg_region_tokens, so it '
                                  f'is not an AVF-MAE++ local-global encoder.{hint}')
        proj = state[prefix + 'patch_embed.proj.weight']
        tokens = state[prefix + 'regions.region_tokens']
        grid, region = grids[name]['grid'], grids[name]['region_size']
        if len(grid) != len(region) or any(g % r for g, r in zip(grid, region)):
            raise ConversionError(f'{_TOOL}: {name} region size {region} does not divide the '
                                  f'token grid {grid}.')
        region_grid = tuple(g // r for g, r in zip(grid, region))
        if math.prod(region_grid) != tokens.shape[0]:
            raise ConversionError(
                f'{_TOOL}: the {name} encoder has {tokens.shape[0]} region tokens, but token '
                f'grid {grid} ({grids[name]["grid_from"]}) with region size {region} '
                f'({grids[name]["region_size_from"]}) has {math.prod(region_grid)} regions; '
                f'pass --{name}-grid and --{name}-region-size.')
        arch[name] = dict(
            embed_dim=int(proj.shape[0]), depth=_blocks(state, prefix + 'blocks.'),
            patch_size=int(proj.shape[-1]), in_channels=int(proj.shape[1]),
            tubelet_size=int(proj.shape[2]) if proj.ndim == 5 else None,
            grid=list(grid), region_size=list(region), region_grid=list(region_grid),
            **_lg_options(state, prefix))
    arch['fusion'] = dict(embed_dim=int(state['fusion_encoder.norm.weight'].shape[0]),
                          depth=_blocks(state, 'fusion_encoder.blocks.'))
    for name in ('video', 'audio'):
        head = state.get(f'{name}_decoder.head.weight')
        if head is not None:
            depth = _blocks(state, f'{name}_decoder.blocks.')
            skips = f'{name}_decoder.blocks.1.cross_attn.q.weight' in state
            arch[f'{name}_decoder'] = dict(
                embed_dim=int(head.shape[1]), depth=depth, out_channels=int(head.shape[0]),
                num_skips=depth - 1 if skips else 0)
    return arch


def build_reference_model(arch: dict) -> torch.nn.Module:
    """holaframe modules with the architecture ``arch`` (one attention head: shapes only)."""
    from holaframe.models.encoders import AVFMAEAudioEncoder, AVFMAEVideoEncoder
    from holaframe.models.fusion import AVFMAEFusionEncoder
    from holaframe.registry import MODELS

    def lg(name):
        a = arch[name]
        return dict(arch=dict(embed_dim=a['embed_dim'], depth=a['depth'], num_heads=1,
                              mlp_ratio=4.), patch_size=a['patch_size'],
                    in_channels=a['in_channels'], region_size=tuple(a['region_size']),
                    **{k: a[k] for k in ('first_attn_type', 'third_attn_type', 'no_second',
                                         'attn_param_sharing_all',
                                         'attn_param_sharing_first_third')})

    v, a = arch['video'], arch['audio']
    video = dict(type='AVFMAEVideoEncoder', img_size=(v['grid'][1] * v['patch_size'],
                                                      v['grid'][2] * v['patch_size']),
                 num_frames=v['grid'][0] * v['tubelet_size'], tubelet_size=v['tubelet_size'],
                 **lg('video'))
    audio = dict(type='AVFMAEAudioEncoder', input_type='fbank',
                 spec_size=tuple(g * a['patch_size'] for g in a['grid']), **lg('audio'))
    fusion = dict(type='AVFMAEFusionEncoder', embed_dim=arch['fusion']['embed_dim'],
                  depth=arch['fusion']['depth'], num_heads=1)
    if 'video_decoder' in arch and 'audio_decoder' in arch:
        vd, ad = arch['video_decoder'], arch['audio_decoder']
        skips = vd['num_skips']
        return MODELS.build(dict(
            type='AVMAEPretrainer', video_encoder=video, audio_encoder=audio,
            fusion_encoder=fusion, skip_indices=tuple(range(skips)) if skips else None,
            video_decoder=dict(type='AVMAEDecoder', num_heads=1, **vd),
            audio_decoder=dict(type='AVMAEDecoder', num_heads=1, **ad)))
    model = torch.nn.Module()
    model.video_encoder = AVFMAEVideoEncoder(**{k: w for k, w in video.items() if k != 'type'})
    model.audio_encoder = AVFMAEAudioEncoder(**{k: w for k, w in audio.items() if k != 'type'})
    model.fusion_encoder = AVFMAEFusionEncoder(
        **{k: w for k, w in fusion.items() if k != 'type'})
    return model


def _listing(items: Sequence, limit: int = 5) -> str:
    more = f' (and {len(items) - limit} more)' if len(items) > limit else ''
    return '; '.join(str(i) for i in items[:limit]) + more


def check_structure(converted: Dict[str, torch.Tensor], arch: dict) -> None:
    """The converted tensors must be exactly the state of the holaframe modules of ``arch``.

    Raises:
        ConversionError: Missing (partial model), unexpected (unmapped) or misshapen tensors.
    """
    own = build_reference_model(arch).state_dict()
    missing = sorted(k for k in own if k not in converted)
    unexpected = sorted(k for k in converted if k not in own)
    misshapen = [f'{k} {tuple(converted[k].shape)} vs {tuple(own[k].shape)}'
                 for k in sorted(converted) if k in own and converted[k].shape != own[k].shape]
    if not (missing or unexpected or misshapen):
        return
    lines = [f'{_TOOL}: the checkpoint is not a complete AVF-MAE++ model; nothing was written.']
    if unexpected:
        lines.append(f'  {len(unexpected)} tensors have no place in holaframe\'s AVF-MAE++ '
                     f'modules (AVF-MAE++ names): '
                     + ', '.join(str(revert_key(k) or k) for k in unexpected))
    if missing:
        lines.append(f'  {len(missing)} tensors of the model are missing (a partial model), '
                     f'first: {_listing([revert_key(k) or k for k in missing])}')
    if misshapen:
        lines.append(f'  {len(misshapen)} tensors have unexpected shapes (checkpoint vs model), '
                     f'first: {_listing(misshapen)}')
    raise ConversionError('\n'.join(lines))


def _strip_init_cfg(node):
    if isinstance(node, dict):
        return {k: _strip_init_cfg(v) for k, v in node.items() if k != 'init_cfg'}
    if isinstance(node, (list, tuple)):
        return type(node)(_strip_init_cfg(v) for v in node)
    return node


def check_config(converted: Dict[str, torch.Tensor], config: str,
                 cfg_options: Optional[dict] = None) -> List[str]:
    """The converted tensors must fit the model of ``config`` wherever both have a part.

    Layers whose tensors differ in rank (an fbank patch embedding offered to an MFCC embedding)
    are not transferable and are skipped, as ``PretrainedPart`` does; grid records and region
    tokens are resized by the modules themselves.

    Args:
        converted (dict): Converted state dict.
        config (str): Config file.
        cfg_options (dict, optional): Overrides merged into the config (``--cfg-options``).

    Returns:
        list[str]: The config model's parts that the checkpoint fills.

    Raises:
        ConversionError: Misshapen tensors, or parameters of a filled part that are missing.
    """
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from holaframe.models.initializers.pretrained_part_init import SELF_RESIZING_KEYS
    from holaframe.registry import MODELS
    from holaframe.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'holaframe')):
        model = MODELS.build(_strip_init_cfg(copy.deepcopy(cfg.model.to_dict())))
    own = model.state_dict()
    params = {name for name, _ in model.named_parameters()}
    parts = sorted({k.split('.', 1)[0] for k in converted} & {k.split('.', 1)[0] for k in own})
    if not parts:
        raise ConversionError(f'{_TOOL}: the model of {config} has none of the checkpoint\'s '
                              'parts (video_encoder, audio_encoder, fusion_encoder, ...).')
    in_parts = [k for k in converted if k.split('.', 1)[0] in parts]
    layers = {k.rsplit('.', 1)[0] for k in in_parts if k in own
              and converted[k].ndim != own[k].ndim}
    mismatched = [f'{k} {tuple(converted[k].shape)} vs {tuple(own[k].shape)}'
                  for k in sorted(in_parts) if k in own and k.rsplit('.', 1)[0] not in layers
                  and k.rsplit('.', 1)[-1] not in SELF_RESIZING_KEYS
                  and converted[k].shape != own[k].shape]
    unexpected = sorted(k for k in in_parts if k not in own)
    missing = sorted(k for k in params if k.split('.', 1)[0] in parts and k not in converted
                     and k.rsplit('.', 1)[0] not in layers)
    if mismatched or unexpected or missing:
        lines = [f'{_TOOL}: the checkpoint does not fit the model of {config}; nothing was '
                 'written.']
        if mismatched:
            lines.append(f'  {len(mismatched)} tensors differ in shape (checkpoint vs config), '
                         f'first: {_listing(mismatched)}')
        if unexpected:
            lines.append(f'  {len(unexpected)} checkpoint tensors have no place in the config '
                         f'model, first: {_listing(unexpected)}')
        if missing:
            lines.append(f'  {len(missing)} config model parameters are not in the checkpoint, '
                         f'first: {_listing(missing)}')
        lines.append('  Does the config have the checkpoint\'s width and depth (arch, '
                     'embed_dim, depth) and its attention options?')
        raise ConversionError('\n'.join(lines))
    return parts


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def convert_checkpoint(src: str, dst: str, config: Optional[str] = None,
                       cfg_options: Optional[dict] = None,
                       **grid_overrides: Optional[Sequence[int]]) -> dict:
    """Read ``src`` safely, convert and check it, then write ``{'state_dict', 'meta'}``.

    Args:
        src (str): AVF-MAE++ checkpoint.
        dst (str): Output path (written only when every check passes).
        config (str, optional): A holaframe config whose model the weights must fit.
        cfg_options (dict, optional): Overrides of that config.
        **grid_overrides: ``video_grid``, ``audio_grid``, ``video_region_size``,
            ``audio_region_size`` (see :func:`resolve_grids`).

    Returns:
        dict: The ``meta`` written.
    """
    if not osp.isfile(src):
        raise ConversionError(f'{_TOOL}: {src} is not a file (download the checkpoint first; '
                              'docs/pretrained_weights.md says where).')
    ckpt = load_checkpoint_safely(src)
    state = unwrap_state_dict(ckpt)
    args = namespace_to_dict(ckpt.get('args')) if isinstance(ckpt, dict) else {}
    converted, classifier, unmapped = convert_state_dict(state)
    if unmapped:
        raise ConversionError(
            f'{_TOOL}: {len(unmapped)} keys of {src} have no holaframe name (they belong to no '
            f'AVF-MAE++ module this converter knows); nothing was written: '
            + ', '.join(unmapped))
    grids = resolve_grids(args, grid_overrides)
    arch = describe(converted, grids)
    for name in ('video', 'audio'):
        pos_key, region_key = GRID_KEYS[name]
        converted[pos_key] = torch.tensor(grids[name]['grid'], dtype=torch.long)
        converted[region_key] = torch.tensor(arch[name]['region_grid'], dtype=torch.long)
    check_structure(converted, arch)
    parts = check_config(converted, config, cfg_options) if config else None
    meta = dict(
        converter=_TOOL, source=osp.basename(src), source_sha256=_sha256(src),
        kind='pretrain' if 'video_decoder' in arch else 'finetune',
        num_tensors=len(converted), classifier_keys_left_out=classifier, architecture=arch,
        token_grids={k: list(v['grid']) for k, v in grids.items()},
        grid_sources={f'{k}_{w}': v[f'{w}_from'] for k, v in grids.items()
                      for w in ('grid', 'region_size')},
        checked_config=config, config_parts=parts)
    if args:
        meta['avfmae_args'] = args
    if isinstance(ckpt, dict) and isinstance(ckpt.get('epoch'), (int, str)):
        meta['epoch'] = ckpt['epoch']
    out_dir = osp.dirname(osp.abspath(dst))
    os.makedirs(out_dir, exist_ok=True)
    tmp = osp.join(out_dir, f'.{osp.basename(dst)}.{os.getpid()}.tmp')
    try:
        torch.save(dict(state_dict=converted, meta=meta), tmp)
        os.replace(tmp, dst)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return meta


def _ints(text: str) -> Tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected sizes like 8,10,10; got {text!r}') from None
    if not values or min(values) <= 0:
        raise argparse.ArgumentTypeError(f'sizes must be positive; got {text!r}')
    return values


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='AVF-MAE++ checkpoint (.pth)')
    parser.add_argument('dst', help='output holaframe checkpoint')
    parser.add_argument('--config', help='holaframe config whose model the weights must fit '
                        '(e.g. configs/hola/hola_avfmae-base_8xb8-30e_avdf1mpp.py)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='overrides of --config, e.g. model.video_encoder.img_size=160')
    parser.add_argument('--video-grid', type=_ints, metavar='T,H,W',
                        help='video token grid of the pre-training (release: 8,10,10)')
    parser.add_argument('--audio-grid', type=_ints, metavar='T,F',
                        help='audio token grid of the pre-training (release: 16,8)')
    parser.add_argument('--video-region-size', type=_ints, metavar='T,H,W',
                        help='video region size in tokens (release: 2,5,10)')
    parser.add_argument('--audio-region-size', type=_ints, metavar='T,F',
                        help='audio region size in tokens (release: 4,4)')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='read src with a full pickle load, which can run code: only for a '
                        'file you trust (default: weights only; src may be a local file or an '
                        'http(s) URL)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    set_unsafe_load(args.unsafe_load)
    try:
        meta = convert_checkpoint(
            args.src, args.dst, config=args.config, cfg_options=args.cfg_options,
            video_grid=args.video_grid,
            audio_grid=args.audio_grid, video_region_size=args.video_region_size,
            audio_region_size=args.audio_region_size)
    except ConversionError as exc:
        print(exc, file=sys.stderr)
        return 1
    arch = meta['architecture']
    print(f'converted {meta["kind"]} checkpoint {args.src} (sha256 {meta["source_sha256"]}) -> '
          f'{args.dst}: {meta["num_tensors"]} tensors; video dim {arch["video"]["embed_dim"]} '
          f'depth {arch["video"]["depth"]}, audio dim {arch["audio"]["embed_dim"]} depth '
          f'{arch["audio"]["depth"]}, fusion depth {arch["fusion"]["depth"]}')
    for key, source in meta['grid_sources'].items():
        print(f'  {key}: from the {source}')
    if meta['classifier_keys_left_out']:
        print(f'left out the fine-tuned classifier: {meta["classifier_keys_left_out"]}')
    if args.config:
        print(f'fits {args.config} (parts {meta["config_parts"]})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
