"""A pipeline with perturbations placed right after decoding (for configs that inherit one)."""

import copy
from typing import Dict, List, Optional, Sequence, Union

from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

from .base_perturbation import BasePerturbation
from .catalog import PERTURBATIONS, check_perturbation_names
from .random_perturbation import RandomPerturbation

__all__ = ['WithPerturbation', 'insert_after_decoding', 'VIDEO_DECODERS', 'AUDIO_DECODERS']

#: Transforms after which the frames (``imgs``) / the waveform (``waveform``) exist.
VIDEO_DECODERS = ('DecordDecode', )
AUDIO_DECODERS = ('AudioDecode', )


def _type_name(cfg) -> str:
    kind = cfg.get('type') if isinstance(cfg, dict) else type(cfg)
    name = kind if isinstance(kind, str) else getattr(kind, '__name__', str(kind))
    return name.split('.')[-1]


def _modalities(cfg) -> List[str]:
    """What a perturbation config needs decoded: ``['video']``, ``['audio']`` or both (a
    ``RandomPerturbation``: the modalities of its perturbations)."""
    name = _type_name(cfg)
    cls = TRANSFORMS.get(name)
    if isinstance(cls, type) and issubclass(cls, BasePerturbation):
        return [cls.modality]
    if isinstance(cls, type) and issubclass(cls, RandomPerturbation):
        if isinstance(cfg, RandomPerturbation):
            return cfg.modalities
        names = check_perturbation_names(cfg.get('perturbations'))
        kinds = {PERTURBATIONS[n].modality for n in names}
        return [m for m in ('video', 'audio') if m in kinds]
    raise ValueError(f'{name} is not a perturbation (a BasePerturbation subclass or '
                     'RandomPerturbation)')


def insert_after_decoding(pipeline: Sequence, perturbations: Union[dict, Sequence[dict]],
                          source: str = 'the pipeline') -> List:
    """A copy of ``pipeline`` with each perturbation config right after the decoder it needs.

    A video perturbation goes after ``DecordDecode`` (on the whole decoded frames, before any
    crop), an audio one after ``AudioDecode``; a ``RandomPerturbation`` drawing from both gets a
    copy after each decoder (the copies share one draw per sample, see its docstring). After
    a decoder, perturbations keep the order they are given in.

    Args:
        pipeline: Transform configs.
        perturbations: One perturbation config or a list of them.
        source: What the pipeline is, for error messages (e.g. the config file).

    Raises:
        ValueError: A needed decoder is missing (the message lists the pipeline's transforms).
    """
    out = [copy.deepcopy(t) for t in pipeline]
    if isinstance(perturbations, dict):
        perturbations = [perturbations]
    for cfg in perturbations:
        for modality in _modalities(cfg):
            names = [_type_name(t) for t in out]
            decoders = VIDEO_DECODERS if modality == 'video' else AUDIO_DECODERS
            found = [i for i, n in enumerate(names) if n in decoders]
            if not found:
                raise ValueError(f'{source}: {_type_name(cfg)} perturbs the {modality} but '
                                 f'the pipeline has no {" or ".join(decoders)}: {names}')
            # After the decoder and after the perturbations already placed there.
            pos = found[-1] + 1
            while pos < len(out) and _is_perturbation(out[pos]):
                pos += 1
            out.insert(pos, copy.deepcopy(cfg))
    return out


def _is_perturbation(cfg) -> bool:
    try:
        _modalities(cfg)
    except ValueError:
        return False
    return True


@TRANSFORMS.register_module()
class WithPerturbation(BaseTransform):
    """Run ``pipeline`` with ``perturbation`` inserted right after decoding.

    A config that inherits a pipeline (``{{_base_.train_pipeline}}``) cannot insert a transform
    into the middle of it; wrapping it does, without copying it::

        train_dataloader = dict(dataset=dict(pipeline=[
            dict(type='WithPerturbation', pipeline={{_base_.train_pipeline}},
                 perturbation=dict(type='RandomPerturbation', prob=0.5))]))

    See :func:`insert_after_decoding` for where each perturbation goes.

    Args:
        pipeline: The transform configs.
        perturbation: A perturbation config, or a list of them.
    """

    def __init__(self, pipeline: Sequence[dict],
                 perturbation: Optional[Union[dict, Sequence[dict]]] = None) -> None:
        if perturbation is None:
            raise ValueError('WithPerturbation needs a perturbation config, e.g. '
                             "dict(type='RandomPerturbation', prob=0.5)")
        cfgs = insert_after_decoding(pipeline, perturbation, 'WithPerturbation')
        self.transforms = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in cfgs]

    def transform(self, results: Dict) -> Optional[Dict]:
        """Apply the transforms in order (None if one of them drops the sample)."""
        for t in self.transforms:
            results = t(results)
            if results is None:
                return None
        return results

    def __repr__(self) -> str:
        inner = ', '.join(repr(t) for t in self.transforms)
        return f'{type(self).__name__}([{inner}])'
