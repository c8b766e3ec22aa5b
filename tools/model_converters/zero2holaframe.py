"""Consolidate a DeepSpeed (ZeRO) checkpoint directory into one plain holaframe checkpoint.

Usage::

    python tools/model_converters/zero2holaframe.py work_dirs/EXP/iter_1000.pth hola.pth

The input is a directory written by ``HolaDeepSpeedStrategy`` (``FlexibleRunner``'s checkpoint
``iter_N.pth`` / ``epoch_N.pth`` is a directory with rank 0's ``*model_states.pt`` and one
``*_optim_states.pt`` per rank). The output ``{'state_dict': ..., 'meta': ...}`` holds the fp32
weights of the whole model (ZeRO stages 1-3 are gathered from the per-rank partitions with
DeepSpeed's ``zero_to_fp32``; stage 0 takes the saved module weights) and plain-type metadata
(epoch, iter, seed, config text, ...), so that it loads with ``torch.load(weights_only=True)`` in
one CPU process: ``tools/test.py CONFIG hola.pth`` (plain or DeepSpeed config), ``load_from``
or ``init_cfg=dict(type='Pretrained', checkpoint='hola.pth')``. The shards are read
weights-only too (the few DeepSpeed data classes they pickle allowed; ``--unsafe-load`` for a
trusted folder written by an older release). The output is written atomically.
Needs no GPU, no process group, and no more ranks than one.
"""

import argparse
import os.path as osp
from collections import OrderedDict
from typing import Any, Dict, Tuple

from holaframe.engine.strategies.hola_deep_speed_strategy import deepspeed_checkpoint_globals
from holaframe.utils.atomic_io import atomic_torch_save
from holaframe.utils.checkpoint import load_checkpoint, set_unsafe_load, weights_only_torch_load

# Rank 0's model-states file: ZeRO-0/1/2 write the first name, ZeRO-3 the second.
MODEL_STATES = ('mp_rank_00_model_states.pt', 'zero_pp_rank_0_mp_rank_00_model_states.pt')
_PLAIN = (str, int, float, bool, type(None))


def plain_meta(value: Any) -> Tuple[bool, Any]:
    """Keep only what ``torch.load(weights_only=True)`` accepts without extra globals.

    Args:
        value (Any): A metadata value.

    Returns:
        tuple[bool, Any]: Whether ``value`` is plain, and its plain copy (dicts drop non-plain
        entries; lists/tuples with a non-plain item are not plain).
    """
    if isinstance(value, _PLAIN):
        return True, value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            ok, item = plain_meta(item)
            if ok and isinstance(key, _PLAIN):
                out[key] = item
        return True, out
    if isinstance(value, (list, tuple)):
        items = [plain_meta(v) for v in value]
        if all(ok for ok, _ in items):
            return True, type(value)(v for _, v in items)
    return False, None


def read_model_states(ckpt_dir: str) -> Dict[str, Any]:
    """Load ``mp_rank_00_model_states.pt`` of a DeepSpeed checkpoint directory.

    Args:
        ckpt_dir (str): The checkpoint directory (``.../iter_N.pth``).
    """
    paths = [osp.join(ckpt_dir, name) for name in MODEL_STATES]
    path = next((p for p in paths if osp.isfile(p)), None)
    if path is None:
        raise FileNotFoundError(
            f'zero2holaframe.py: {ckpt_dir} is not a DeepSpeed checkpoint directory (none of '
            f'{list(MODEL_STATES)}); pass the iter_N.pth / epoch_N.pth directory written by '
            'HolaDeepSpeedStrategy')
    # Weights-only, with the few DeepSpeed data classes its files pickle allowed.
    return load_checkpoint(path, map_location='cpu',
                           extra_safe_globals=deepspeed_checkpoint_globals())


def consolidate(ckpt_dir: str, exclude_frozen_parameters: bool = False) -> Dict[str, Any]:
    """Gather a ZeRO checkpoint directory into ``{'state_dict', 'meta'}`` (fp32, CPU).

    Args:
        ckpt_dir (str): The checkpoint directory (``.../iter_N.pth``).
        exclude_frozen_parameters (bool): Leave frozen parameters out. Defaults to False.
    """
    ckpt_dir = osp.abspath(ckpt_dir.rstrip('/'))
    states = read_model_states(ckpt_dir)
    stage = int((states.get('ds_config') or {}).get('zero_optimization', {}).get('stage', 0))
    if stage == 0:
        state_dict = OrderedDict(
            (k, v.detach().float() if v.is_floating_point() else v.detach())
            for k, v in states['module'].items())
    else:
        from deepspeed.utils.zero_to_fp32 import get_fp32_state_dict_from_zero_checkpoint
        parent, tag = osp.split(ckpt_dir)
        # DeepSpeed reads the shards with weights_only=False: route its loads through the
        # weights-only loader.
        with weights_only_torch_load(deepspeed_checkpoint_globals()):
            state_dict = get_fp32_state_dict_from_zero_checkpoint(
                parent, tag=tag, exclude_frozen_parameters=exclude_frozen_parameters)
    state_dict = OrderedDict((k, v.contiguous().clone()) for k, v in state_dict.items())
    _, meta = plain_meta(states.get('meta') or {})
    meta.update(
        converted_from=osp.basename(ckpt_dir),
        zero_stage=stage,
        dp_world_size=int(states.get('dp_world_size', 1)),
        ds_version=str(states.get('ds_version', '')))
    return dict(state_dict=state_dict, meta=meta)


def convert(ckpt_dir: str, out_file: str, exclude_frozen_parameters: bool = False) -> dict:
    """Consolidate ``ckpt_dir`` and save it to ``out_file``; verify it reloads weights-only.

    Args:
        ckpt_dir (str): The checkpoint directory (``.../iter_N.pth``).
        out_file (str): Output ``.pth`` file.
        exclude_frozen_parameters (bool): Leave frozen parameters out. Defaults to False.

    Returns:
        dict: The saved checkpoint.
    """
    checkpoint = consolidate(ckpt_dir, exclude_frozen_parameters)
    atomic_torch_save(checkpoint, out_file)
    reloaded = load_checkpoint(out_file, map_location='cpu', unsafe=False)
    if list(reloaded['state_dict']) != list(checkpoint['state_dict']):
        raise RuntimeError(f'zero2holaframe.py: {out_file} did not reload identically')
    return checkpoint


def parse_args():
    parser = argparse.ArgumentParser(
        description='Consolidate a DeepSpeed ZeRO checkpoint directory into one plain '
        'holaframe checkpoint (fp32, loadable on one CPU process)')
    parser.add_argument('src', help='checkpoint directory, e.g. work_dirs/EXP/iter_1000.pth')
    parser.add_argument('dst', help='output checkpoint file, e.g. hola_vit-base.pth')
    parser.add_argument(
        '--exclude-frozen-parameters', action='store_true', help='leave frozen parameters out')
    parser.add_argument(
        '--unsafe-load', action='store_true',
        help='read the shards with a full pickle load, which can run code: only for a folder '
        'you trust (default: weights only)')
    return parser.parse_args()


def main():
    args = parse_args()
    set_unsafe_load(args.unsafe_load)
    checkpoint = convert(args.src, args.dst, args.exclude_frozen_parameters)
    numel = sum(v.numel() for v in checkpoint['state_dict'].values())
    print(f'{args.dst}: {len(checkpoint["state_dict"])} tensors, {numel} elements '
          f'(ZeRO stage {checkpoint["meta"]["zero_stage"]}, iter '
          f'{checkpoint["meta"].get("iter")})')


if __name__ == '__main__':
    main()
