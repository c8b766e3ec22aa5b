"""Scoring videos with a trained detector: ``init_detector`` and ``inference_detector``."""

import copy
import os
import os.path as osp
from typing import Dict, Iterable, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope

from holaframe.utils.checkpoint import load_weights

VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.flv', '.mpg', '.mpeg')

#: Transforms after which ``FaceTrackCrop`` is inserted (frames decoded, not yet resized).
_FACE_CROPS = ('FaceTrackCrop', 'HaarFaceCrop')
_DECODERS = ('DecordDecode', )

#: Values of ``init_detector(quantize=...)``.
QUANTIZE_MODES = (None, 'int8')


def init_detector(config: Union[str, Config],
                  checkpoint: Optional[str] = None,
                  device: Union[str, torch.device] = 'cpu',
                  cfg_options: Optional[dict] = None,
                  quantize: Optional[str] = None) -> nn.Module:
    """Build a detector from a config and load its weights safely.

    The weights are read with ``torch.load(weights_only=True)`` (see
    :mod:`holaframe.utils.checkpoint`), so an untrusted checkpoint cannot run code. The
    model's ``init_cfg`` (e.g. pre-trained encoder files) is not applied: the checkpoint holds
    every weight, and a missing or unexpected key is an error.

    Args:
        config (str | Config): Config file or object (its ``test_dataloader`` pipeline is used
            by :func:`inference_detector`).
        checkpoint (str, optional): Checkpoint file; None keeps random weights (tests only).
        device (str | torch.device): Where the model runs.
        cfg_options (dict, optional): Overrides merged into the config.
        quantize (str, optional): ``'int8'``: after the weights are loaded, quantize the
            ``nn.Linear`` layers (attention projections included) dynamically to int8 with
            :func:`holaframe.deploy.quantization.quantize_dynamic_int8`; CPU only, inference only,
            the data pre-processor untouched. None (default) keeps fp32.

    Returns:
        nn.Module: The model in eval mode with ``model.cfg`` set.

    Raises:
        ValueError: ``quantize`` is not None or ``'int8'``, or ``'int8'`` with a non-CPU device.
    """
    from holaframe.registry import MODELS
    from holaframe.utils import register_all_modules

    if quantize not in QUANTIZE_MODES:
        raise ValueError(f'quantize must be one of {QUANTIZE_MODES}, got {quantize!r}')
    if quantize == 'int8' and torch.device(device).type != 'cpu':
        raise ValueError(f'quantize="int8" runs on CPU only, got device={str(device)!r}: '
                         f'use device="cpu", or drop quantize on a GPU.')
    if isinstance(config, str):
        if not osp.isfile(config):
            raise FileNotFoundError(f'Config file not found: {config}')
        config = Config.fromfile(config)
    elif not isinstance(config, Config):
        raise TypeError(f'config must be a file name or a Config, got {type(config).__name__}')
    config = copy.deepcopy(config)
    if cfg_options:
        config.merge_from_dict(cfg_options)
    register_all_modules(init_default_scope=False)
    scope = config.get('default_scope', 'holaframe')
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(config.model)
    if checkpoint is not None:
        state = load_weights(checkpoint)
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise RuntimeError(f'{checkpoint} does not match the model of the config: missing '
                               f'{missing[:5]} ({len(missing)}), unexpected {unexpected[:5]} '
                               f'({len(unexpected)}).')
    model.cfg = config
    model.to(device)
    model.eval()
    if quantize == 'int8':
        from holaframe.deploy.quantization import quantize_dynamic_int8
        model = quantize_dynamic_int8(model, inplace=True)
    return model


def test_pipeline_cfg(cfg: Config, face_crop: bool = False) -> List[dict]:
    """The config's test pipeline, optionally with ``FaceTrackCrop`` after frame decoding.

    Args:
        cfg (Config): A detector config with ``test_dataloader`` (or ``test_pipeline``).
        face_crop (bool): Track faces and crop every frame around the largest one
            (in-the-wild videos; dlib's HOG detector, or the Haar cascade without dlib).
    """
    if cfg.get('test_dataloader') is not None:
        pipeline = cfg.test_dataloader.dataset.pipeline
    elif cfg.get('test_pipeline') is not None:
        pipeline = cfg.test_pipeline
    else:
        raise KeyError('The config has neither test_dataloader.dataset.pipeline nor '
                       'test_pipeline: cannot prepare videos for inference.')
    pipeline = [dict(t) if isinstance(t, dict) else t for t in copy.deepcopy(pipeline)]
    if face_crop and not any(t.get('type') in _FACE_CROPS for t in pipeline):
        pos = [i for i, t in enumerate(pipeline) if t.get('type') in _DECODERS]
        if not pos:
            raise ValueError(f'face_crop needs one of {_DECODERS} in the test pipeline.')
        pipeline.insert(pos[0] + 1, dict(type='FaceTrackCrop'))
    return pipeline


def collect_videos(paths: Iterable[str],
                   extensions: Sequence[str] = VIDEO_EXTENSIONS) -> List[str]:
    """Expand folders (recursively, sorted) into video files; files are kept as given.

    Args:
        paths (Iterable[str]): Files and folders.
        extensions (Sequence[str]): Video file endings looked for in folders.
    """
    exts = tuple(e.lower() for e in extensions)
    files = []
    for path in paths:
        if osp.isdir(path):
            found = []
            for root, _, names in os.walk(path):
                found += [osp.join(root, n) for n in names if n.lower().endswith(exts)]
            files += sorted(found)
        else:
            files.append(path)
    return files


class _Scorer:
    """Cached pipeline of a model (rebuilt when ``face_crop`` changes)."""

    def __init__(self, model: nn.Module, face_crop: bool) -> None:
        scope = model.cfg.get('default_scope', 'holaframe')
        with DefaultScope.overwrite_default_scope(scope):
            self.pipeline = Compose(test_pipeline_cfg(model.cfg, face_crop))
        self.face_crop = face_crop


def _score_one(model: nn.Module, scorer: _Scorer, path: str, index: int,
               threshold: float) -> Dict:
    entry = dict(file=path, score=None, label=None, has_audio=None, error=None)
    try:
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path}: no such file')
        results = dict(filename=osp.abspath(path), file=osp.basename(path), sample_idx=index,
                       gt_label=-1, subset='inference')
        data = scorer.pipeline(results)
        if data is None:
            raise RuntimeError(f'{path}: the test pipeline returned None')
        with torch.no_grad():
            sample = model.test_step(pseudo_collate([data]))[0]
        score = float(sample.pred_score.reshape(-1)[0])
        if score != score:  # NaN
            raise FloatingPointError(f'{path}: the model returned NaN')
        entry.update(score=score, label=int(score >= threshold),
                     has_audio=bool(sample.metainfo.get('has_audio', True)))
    except Exception as exc:  # noqa: BLE001 - a bad file must not stop the run
        entry['error'] = f'{type(exc).__name__}: {exc}'
    return entry


def inference_detector(model: nn.Module,
                       path_or_paths: Union[str, Sequence[str]],
                       threshold: float = 0.5,
                       face_crop: bool = False) -> Union[Dict, List[Dict]]:
    """Score videos with a detector from :func:`init_detector`.

    Every file goes through the config's test pipeline on its own; a file that cannot be read
    (missing, corrupt, no video stream, ...) gives an entry with ``error`` set and ``score``
    None instead of stopping the run. A file without an audio track is scored with silent
    audio (``has_audio`` False).

    Args:
        model (nn.Module): The detector (``model.cfg`` set).
        path_or_paths (str | Sequence[str]): One video or several.
        threshold (float): ``label`` is 1 (fake) when ``score >= threshold``.
        face_crop (bool): Crop around the largest face before resizing (in-the-wild videos).

    Returns:
        dict | list[dict]: Per video ``file``, ``score`` (fake probability), ``label``,
        ``has_audio`` and ``error``; a single dict for a single path.
    """
    if not hasattr(model, 'cfg'):
        raise AttributeError('model.cfg is missing: build the model with init_detector().')
    single = isinstance(path_or_paths, (str, os.PathLike))
    paths = [str(path_or_paths)] if single else [str(p) for p in path_or_paths]
    scorer = getattr(model, '_holaframe_scorer', None)
    if scorer is None or scorer.face_crop != face_crop:
        scorer = _Scorer(model, face_crop)
        model._holaframe_scorer = scorer
    model.eval()
    entries = [_score_one(model, scorer, p, i, threshold) for i, p in enumerate(paths)]
    return entries[0] if single else entries
