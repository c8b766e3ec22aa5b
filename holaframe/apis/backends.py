"""Inference backends and pipelined scoring: decoding the next clip while the model runs.

:func:`build_scoring_model` loads a detector for one of :data:`BACKENDS`: ``pytorch`` (the
checkpoint through :func:`~holaframe.apis.init_detector`) or ``onnxruntime`` (an exported
``.onnx`` file through :class:`~holaframe.deploy.onnx_detector.OnnxDetector`). Both give an
object with ``cfg`` and ``test_step``, so the data pipeline (the config's test pipeline) is the
same and only the model call differs.

:func:`iter_inference` scores videos in order like :func:`~holaframe.apis.inference_detector`,
with the same entries, but decodes up to ``prefetch`` clips ahead in a background thread: while
the model scores clip ``i``, clip ``i + 1`` is decoded, so the time per clip approaches
``max(decode, model)`` instead of their sum.
"""

import os.path as osp
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Dict, Iterator, List, Optional, Sequence

import torch
from mmengine.dataset import pseudo_collate

from holaframe.deploy.onnx_detector import load_onnx_detector

from .inference import _Scorer, init_detector

#: Values of ``--backend``.
BACKENDS = ('pytorch', 'onnxruntime')


def build_scoring_model(config: str,
                        checkpoint: str,
                        backend: str = 'pytorch',
                        device: str = 'cpu',
                        quantize: Optional[str] = None,
                        threads: Optional[int] = None):
    """Load a detector for scoring.

    Args:
        config (str): The config file (its test pipeline prepares the clips).
        checkpoint (str): A checkpoint (``pytorch``) or the exported ``.onnx`` file
            (``onnxruntime``).
        backend (str): One of :data:`BACKENDS`.
        device (str): ``pytorch`` only; onnxruntime runs on the CPU.
        quantize (str, optional): ``'int8'``: dynamic int8 of the PyTorch model. An exported
            graph's precision is fixed at export (``export_onnx.py --int8``).
        threads (int, optional): onnxruntime intra-op threads (default: one per core).

    Raises:
        ValueError: An unknown backend, ``quantize`` or a non-CPU device with onnxruntime, or a
            file that is not a holaframe ONNX graph.
        FileNotFoundError: The config or the file does not exist.
    """
    if backend not in BACKENDS:
        raise ValueError(f'backends.py: backend must be one of {BACKENDS}, got {backend!r}')
    if backend == 'pytorch':
        return init_detector(config, checkpoint, device=device, quantize=quantize)
    if quantize:
        raise ValueError(f'backends.py: quantize={quantize!r} applies to the PyTorch backend; an '
                         f'ONNX graph is quantized at export (export_onnx.py --int8)')
    if torch.device(device).type != 'cpu':
        raise ValueError(f'backends.py: the onnxruntime backend runs on the CPU, got '
                         f'device={device!r}')
    return load_onnx_detector(config, checkpoint, threads=threads)


def _decode(scorer: _Scorer, path: str, index: int) -> dict:
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such file')
    results = dict(filename=osp.abspath(path), file=osp.basename(path), sample_idx=index,
                   gt_label=-1, subset='inference')
    data = scorer.pipeline(results)
    if data is None:
        raise RuntimeError(f'{path}: the test pipeline returned None')
    return data


def _entry(model, path: str, decoded: Future, threshold: float) -> Dict:
    entry = dict(file=path, score=None, label=None, has_audio=None, error=None)
    try:
        data = decoded.result()
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


def iter_inference(model,
                   paths: Sequence[str],
                   threshold: float = 0.5,
                   face_crop: bool = False,
                   prefetch: int = 1) -> Iterator[Dict]:
    """Score videos in order, decoding up to ``prefetch`` clips ahead in a thread.

    Args:
        model: From :func:`build_scoring_model` (``cfg`` and ``test_step``).
        paths (Sequence[str]): Video files.
        threshold (float): ``label`` is 1 (fake) when ``score >= threshold``.
        face_crop (bool): Crop around the largest face first (in-the-wild videos).
        prefetch (int): Clips decoded ahead of the model; 0 decodes each clip right before
            scoring it (no thread).

    Yields:
        dict: Per video, in order, the entry of :func:`~holaframe.apis.inference_detector`:
        ``file``, ``score``, ``label``, ``has_audio`` and ``error``.
    """
    if not hasattr(model, 'cfg'):
        raise AttributeError('backends.py: model.cfg is missing; build the model with '
                             'build_scoring_model() or init_detector()')
    if prefetch < 0:
        raise ValueError(f'backends.py: prefetch must be >= 0, got {prefetch}')
    scorer = _Scorer(model, face_crop)
    model.eval()
    paths = [str(p) for p in paths]
    if prefetch == 0:
        for i, path in enumerate(paths):
            future: Future = Future()
            try:
                future.set_result(_decode(scorer, path, i))
            except Exception as exc:  # noqa: BLE001 - reported in the entry
                future.set_exception(exc)
            yield _entry(model, path, future, threshold)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix='decode') as pool:
        pending: List[Future] = []
        submitted = 0
        for i, path in enumerate(paths):
            while submitted < len(paths) and submitted <= i + prefetch:
                pending.append(pool.submit(_decode, scorer, paths[submitted], submitted))
                submitted += 1
            yield _entry(model, path, pending.pop(0), threshold)
