"""Initialise one sub-module from the matching part of a (pre-training) checkpoint."""

import os.path as osp
import re
from collections import Counter
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.logging import print_log
from torch import nn

from holaframe.registry import WEIGHT_INITIALIZERS
from holaframe.utils.checkpoint import is_url, load_weights
from holaframe.utils.pretrained import missing_checkpoint_message

#: Tensors a module rebuilds itself from the checkpoint's value (so their shape may differ):
#: the encoders' token grid, and AVF-MAE++'s region tokens with their region grid (mapped by
#: ``RegionTokens`` when the region layout changes).
SELF_RESIZING_KEYS = ('pos_grid', 'region_grid', 'region_tokens')
_FILE = 'holaframe/models/initializers/pretrained_part_init.py'


def summarise_keys(keys: Sequence[str], limit: int = 12) -> str:
    """Compact listing of state-dict keys: block indices folded, e.g. ``blocks.*.norm1.weight x10``.

    Args:
        keys (Sequence[str]): Keys to list.
        limit (int): At most this many folded patterns. Defaults to 12.
    """
    if not keys:
        return 'none'
    counts = Counter(re.sub(r'\.\d+\.', '.*.', k) for k in keys)
    items = [f'{p} x{n}' if n > 1 else p for p, n in sorted(counts.items())]
    more = f', ... ({len(items) - limit} more patterns)' if len(items) > limit else ''
    return ', '.join(items[:limit]) + more


@WEIGHT_INITIALIZERS.register_module(name='PretrainedPart')
class PretrainedPartInit:
    """Load the tensors under ``prefix`` of a checkpoint into a module, strictly checked.

    The fine-tuning hand-off of the paper (Sec. 3.1 -> 3.2): the video encoder, audio encoder and
    fusion encoder of a HOLA detector start from the AV-MAE pre-trained weights. Unlike
    MMEngine's ``Pretrained`` (which only warns), a checkpoint that does not fit is an error:

    * the file does not exist: the message names the config ``variable``, the path and how to get
      a checkpoint (pre-train, or convert released weights);
    * no tensor under ``prefix``, or tensors whose shapes differ (another embedding width), or
      blocks the module does not have / lacks (another depth): the first offending keys and
      shapes are listed and nothing is loaded.

    A layer whose tensors differ in rank (a Conv2d fbank patch embedding offered to a Linear MFCC
    token embedding) is a different kind of layer: it is reported as not transferable and keeps
    its own initialisation. ``pos_grid`` is resized by the encoder itself (it maps positions
    learned on the pre-training grid onto the fine-tuning grid). The checkpoint is read with
    ``torch.load(weights_only=True)`` (a local file or an ``http(s)://`` URL, downloaded once into
    the checkpoint cache). A summary of loaded, not-transferable and unused keys is
    logged.

    Args:
        checkpoint (str): Checkpoint file (MMEngine / holaframe layout: weights under
            ``state_dict``, ``model`` or ``module``, or at the top level).
        prefix (str): Key prefix of the part, e.g. ``'video_encoder.'``.
        variable (str, optional): Config variable holding ``checkpoint`` (error messages and
            ``--cfg-options`` binding, see :mod:`holaframe.utils.pretrained`).
        map_location (str): Where to load tensors. Defaults to ``'cpu'``.
    """

    def __init__(self, checkpoint: str, prefix: str, variable: Optional[str] = None,
                 map_location: str = 'cpu') -> None:
        if not prefix:
            raise ValueError(f'{_FILE}: prefix must name the part to load, e.g. '
                             f'"video_encoder.".')
        self.checkpoint = checkpoint
        self.prefix = prefix if prefix.endswith('.') else prefix + '.'
        self.variable = variable
        self.map_location = map_location

    def _part(self) -> Dict[str, torch.Tensor]:
        if self.checkpoint is None or not (is_url(self.checkpoint)
                                           or osp.isfile(str(self.checkpoint))):
            raise FileNotFoundError(missing_checkpoint_message(self.checkpoint, self.variable))
        weights = load_weights(self.checkpoint)
        part = {k[len(self.prefix):]: v for k, v in weights.items() if k.startswith(self.prefix)}
        if not part:
            tops = sorted({k.split('.', 1)[0] + '.' for k in weights})
            raise ValueError(f'{_FILE}: {self.checkpoint} has no tensor under {self.prefix!r} '
                             f'(its top-level prefixes: {tops[:10]}); is it the right '
                             f'checkpoint for this part?')
        return part

    def __call__(self, module: nn.Module) -> None:
        part = self._part()
        own = module.state_dict()
        params = {name for name, _ in module.named_parameters()}
        # Different rank = a different kind of layer: skip the whole layer (weight and bias).
        other_kind = {k.rsplit('.', 1)[0] for k in part
                      if k in own and part[k].ndim != own[k].ndim}
        not_transferable = sorted(k for k in set(part) | set(own)
                                  if k.rsplit('.', 1)[0] in other_kind)
        part = {k: v for k, v in part.items() if k not in not_transferable}
        resizing = {k for k in set(part) | set(own) if k.rsplit('.', 1)[-1] in SELF_RESIZING_KEYS}
        mismatched = [(k, tuple(part[k].shape), tuple(own[k].shape)) for k in sorted(part)
                      if k in own and k not in resizing and part[k].shape != own[k].shape]
        unexpected = sorted(k for k in part if k not in own)
        missing = sorted(k for k in params if k not in part and k not in not_transferable)
        if mismatched or unexpected or missing:
            self._refuse(module, mismatched, unexpected, missing)
        result = module.load_state_dict(part, strict=False)
        loaded = sorted(k for k in part if k in own)
        print_log(
            f'{self.prefix} <- {self.checkpoint}: loaded {len(loaded)} tensors '
            f'({summarise_keys(loaded)}); not transferable, kept their initialisation: '
            f'{summarise_keys(not_transferable)}; missing buffers: '
            f'{summarise_keys([k for k in result.missing_keys if k not in not_transferable])}',
            logger='current')

    def _refuse(self, module: nn.Module, mismatched: List[tuple], unexpected: List[str],
                missing: List[str]) -> None:
        lines = [f'{_FILE}: {self.checkpoint} (part {self.prefix!r}) does not fit '
                 f'{type(module).__name__}; nothing was loaded.']
        if mismatched:
            lines.append(f'  {len(mismatched)} tensors differ in shape (checkpoint vs model), '
                         f'first: ' + '; '.join(f'{k} {a} vs {b}' for k, a, b in mismatched[:5]))
        if unexpected:
            lines.append(f'  {len(unexpected)} checkpoint tensors have no place in the model, '
                         f'first: {unexpected[:5]}')
        if missing:
            lines.append(f'  {len(missing)} model parameters are not in the checkpoint, '
                         f'first: {missing[:5]}')
        lines.append('  Does the checkpoint have the embedding width and depth of the config '
                     '(arch, embed_dim, depth)?')
        raise ValueError('\n'.join(lines))
