"""Config-level handling of pre-trained checkpoints named by a config variable.

A fine-tuning config names its pre-trained (AV-MAE) checkpoint once, in a top-level variable
(``pretrained = 'checkpoints/....pth'``), and every sub-module that starts from it carries

.. code-block:: python

    init_cfg=dict(type='PretrainedPart', checkpoint=pretrained, prefix='video_encoder.',
                  variable='pretrained')

MMEngine substitutes the variable when the config file is parsed, so a later
``--cfg-options pretrained=...`` would not reach the ``init_cfg`` dicts on its own.
:func:`bind_checkpoint_variables` (called by the tools' config loading after the overrides are
merged) copies the variable's current value into every ``init_cfg`` that names it; ``None``
removes those ``init_cfg`` entries (training from scratch). :func:`check_pretrained_checkpoints`
fails at once, before any data is read, when such a file does not exist.
"""

import os.path as osp
from typing import Any, Iterator, List, Optional, Tuple

#: ``init_cfg`` types whose ``checkpoint`` may be bound to a config variable.
BINDABLE_INIT_TYPES = ('PretrainedPart', )


def missing_checkpoint_message(path: Any, variable: Optional[str] = None,
                               what: str = 'pre-trained AV-MAE checkpoint') -> str:
    """The error text for a pre-trained checkpoint that does not exist.

    Args:
        path (Any): The path the config asked for.
        variable (str, optional): The config variable that holds it.
        what (str): What the file is. Defaults to ``'pre-trained AV-MAE checkpoint'``.

    Returns:
        str: A message naming the variable, the path and the ways to get a checkpoint.
    """
    where = (f'config variable `{variable}` = {path!r}' if variable else
             f'init_cfg checkpoint {path!r}')
    override = variable or 'model.<part>.init_cfg.checkpoint'
    return (
        f'The {what} named by {where} does not exist. Get one in either of two ways:\n'
        f'  1. pre-train it: python tools/train.py configs/avmae/<pre-training config>.py '
        f'(a DeepSpeed run writes a directory: consolidate it with '
        f'tools/model_converters/zero2holaframe.py), or\n'
        f'  2. convert released weights: tools/model_converters/hicmae2holaframe.py (HiCMAE) or '
        f'tools/model_converters/avfmae2holaframe.py (AVF-MAE++); see '
        f'docs/pretrained_weights.md;\n'
        f'then pass --cfg-options {override}=PATH. To train from random weights on purpose, '
        f'use the config whose name contains `_scratch_` (or --cfg-options {override}=None).')


def _init_cfg_slots(node: Any) -> Iterator[Tuple[dict, str, Any]]:
    """Yield ``(parent, key, init_cfg)`` for every ``init_cfg`` entry below ``node``."""
    if isinstance(node, dict):
        for key, value in list(node.items()):
            if key == 'init_cfg' and value is not None:
                yield node, key, value
            else:
                yield from _init_cfg_slots(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _init_cfg_slots(item)


def _bindable(init_cfg: Any) -> List[dict]:
    items = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return [c for c in items if isinstance(c, dict) and c.get('type') in BINDABLE_INIT_TYPES
            and c.get('variable')]


def bind_checkpoint_variables(cfg: Any) -> Any:
    """Copy each named config variable into the ``init_cfg`` entries that use it.

    Args:
        cfg (Config | dict): A loaded config (after ``--cfg-options`` were merged).

    Returns:
        The same ``cfg``, changed in place: ``checkpoint`` set from ``cfg[variable]``; an entry
        whose variable is ``None`` (or the string ``'None'``) is removed.
    """
    model = cfg.get('model') if hasattr(cfg, 'get') else None
    if model is None:
        return cfg
    for parent, key, init_cfg in list(_init_cfg_slots(model)):
        items = list(init_cfg) if isinstance(init_cfg, (list, tuple)) else [init_cfg]
        kept = []
        for item in items:
            if _bindable(item):
                variable = item['variable']
                if variable not in cfg:
                    raise KeyError(f'holaframe/utils/pretrained.py: init_cfg names the config '
                                   f'variable {variable!r}, which the config does not define.')
                value = cfg[variable]
                if value is None or value == 'None':
                    continue
                item['checkpoint'] = value
            kept.append(item)
        if isinstance(init_cfg, (list, tuple)):
            parent[key] = kept or None
        else:
            parent[key] = kept[0] if kept else None
    return cfg


def drop_pretrained_inits(cfg: Any) -> int:
    """Remove every variable-bound ``init_cfg`` (the weights will come from ``load_from`` or a
    resumed checkpoint instead, so the pre-trained file is not needed).

    Args:
        cfg (Config | dict): A loaded config.

    Returns:
        int: How many ``init_cfg`` entries were removed.
    """
    model = cfg.get('model') if hasattr(cfg, 'get') else None
    removed = 0
    for parent, key, init_cfg in list(_init_cfg_slots(model or {})):
        items = list(init_cfg) if isinstance(init_cfg, (list, tuple)) else [init_cfg]
        kept = [item for item in items if not _bindable(item)]
        removed += len(items) - len(kept)
        if isinstance(init_cfg, (list, tuple)):
            parent[key] = kept or None
        else:
            parent[key] = kept[0] if kept else None
    return removed


def check_pretrained_checkpoints(cfg: Any) -> None:
    """Raise ``FileNotFoundError`` when a bound pre-trained checkpoint does not exist locally.

    Args:
        cfg (Config | dict): A config after :func:`bind_checkpoint_variables`.
    """
    model = cfg.get('model') if hasattr(cfg, 'get') else None
    for _, _, init_cfg in _init_cfg_slots(model or {}):
        for item in _bindable(init_cfg):
            path = item.get('checkpoint')
            if isinstance(path, str) and '://' in path:
                continue
            if path is None or not osp.isfile(str(path)):
                raise FileNotFoundError(missing_checkpoint_message(path, item['variable']))
