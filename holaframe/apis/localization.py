"""Temporal localisation of whole videos with a detector that has a localisation head."""

import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.dataset import pseudo_collate

from .inference import _Scorer


def _localize_one(model: nn.Module, scorer: _Scorer, path: str, index: int,
                  threshold: float) -> Dict:
    entry = dict(file=path, score=None, label=None, has_audio=None, error=None, duration=None,
                 segments=None, frame_times=None, frame_scores=None)
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
        if 'pred_segments' not in sample:
            raise ValueError(f'{path}: the model predicts no segments; use a config with a '
                             'loc_head (configs/localization/)')
        score = float(sample.pred_score.reshape(-1)[0])
        if score != score:  # NaN
            raise FloatingPointError(f'{path}: the model returned NaN')
        meta = sample.metainfo
        fps = float(meta.get('avg_fps', 25.0))
        times = sample.pred_frame_times.tolist()
        duration = float(meta.get('num_frames') or len(times)) / fps
        entry.update(
            score=score, label=int(score >= threshold),
            has_audio=bool(meta.get('has_audio', True)), duration=round(duration, 4),
            segments=[[round(float(v), 4) for v in row] for row in sample.pred_segments.tolist()],
            frame_times=[round(t, 4) for t in times],
            frame_scores=[round(float(s), 4) for s in sample.pred_frame_scores.tolist()])
    except Exception as exc:  # noqa: BLE001 - a bad file must not stop the run
        entry['error'] = f'{type(exc).__name__}: {exc}'
    return entry


def check_localizes(model) -> None:
    """Raise ``ValueError`` saying what is missing when ``model`` gives no segments.

    A PyTorch detector needs a localisation head (``loc_head``); an exported graph
    (:class:`~holaframe.deploy.onnx_detector.OnnxDetector`) needs a ``frame_offsets`` output,
    i.e. it was exported from such a model. Both say so with ``predicts_segments``.
    """
    if getattr(model, 'predicts_segments', False):
        return
    onnx_file = getattr(model, 'onnx_file', None)
    if onnx_file is not None:
        raise ValueError(f'{onnx_file}: the graph has no frame_offsets output (outputs: '
                         f'{", ".join(model.output_names)}), so it gives no segments; export a '
                         f'config with a loc_head (configs/localization/) with '
                         f'tools/deployment/export_onnx.py')
    raise ValueError(f'{type(model).__name__} has no loc_head, so it gives no segments; use a '
                     f'config with one (configs/localization/)')


def localize_detector(model: nn.Module,
                      path_or_paths: Union[str, Sequence[str]],
                      threshold: float = 0.5,
                      face_crop: bool = False) -> Union[Dict, List[Dict]]:
    """Score and localise fakes in whole videos with a model from :func:`init_detector` (or
    an exported whole-video graph, :func:`~holaframe.apis.backends.build_scoring_model`).

    The model must have a localisation head (``loc_head``) and usually ``test_window`` with a
    ``WholeVideoSampleFrames`` test pipeline (``configs/localization/``), so that the whole
    video is covered. A file that cannot be read gives an entry with ``error`` set.

    Args:
        model (nn.Module | OnnxDetector): The detector (``model.cfg`` set).
        path_or_paths (str | Sequence[str]): One video or several.
        threshold (float): ``label`` is 1 (fake) when ``score >= threshold``.
        face_crop (bool): Crop around the largest face before resizing.

    Returns:
        dict | list[dict]: Per video ``file``, ``score`` (whole-video fake probability),
        ``label``, ``has_audio``, ``duration`` (s), ``segments`` (``[confidence, start_s,
        end_s]`` rows, best first), ``frame_times`` (s) and ``frame_scores`` (the per-frame
        fake probability timeline) and ``error``.
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
    entries = [_localize_one(model, scorer, p, i, threshold) for i, p in enumerate(paths)]
    return entries[0] if single else entries


def read_segment_metadata(path: str) -> Dict[str, List[List[float]]]:
    """``file -> fake_segments`` of an AV-Deepfake1M(++) metadata JSON list.

    Args:
        path (str): ``*_metadata.json`` (a list of dicts with ``file`` and ``fake_segments``).

    Raises:
        ValueError: The file is not such a list.
    """
    import json
    with open(path) as f:
        entries = json.load(f)
    if not isinstance(entries, list):
        raise ValueError(f'{path}: expected a JSON list of dicts with file and fake_segments')
    out = {}
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or 'file' not in e:
            raise ValueError(f'{path}: entry {i} is not a dict with a file')
        out[str(e['file'])] = [[float(a), float(b)] for a, b in (e.get('fake_segments') or [])]
    return out


def match_metadata(name: str, segments: Dict[str, List[List[float]]]
                   ) -> Optional[List[List[float]]]:
    """The annotated segments of video ``name``: an exact key, else the longest key that ends
    the path (``.../val/<file>``); None when the metadata does not list it."""
    if name in segments:
        return segments[name]
    norm = name.replace(os.sep, '/')
    best = None
    for key in segments:
        if norm.endswith('/' + key) and (best is None or len(key) > len(best)):
            best = key
    return None if best is None else segments[best]
