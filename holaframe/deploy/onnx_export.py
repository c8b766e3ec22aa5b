"""Export a detector's inference graph to ONNX.

The graph takes what the config's test pipeline packs, stacked into a batch: ``video``
``(B, C, T, H, W)`` float on the 0-255 scale, ``audio`` ``(B, ...)`` float and ``has_audio``
``(B,)`` bool. The data pre-processor's work on tensors is inside the graph (video
normalisation with its ``mean`` / ``std``, silent clips' audio set to zero), so the runtime needs
no model code. The batch axis is dynamic; every other size is fixed by the example input.

Two kinds of graph (``metadata_props`` ``holaframe.graph``):

* ``clip``: a model that scores its input as one clip. Outputs ``clip_score`` ``(B,)``, the fake
  probability that ``model.predict`` puts in ``pred_score``, and, for a model with a
  frame-level head (``aux_head``), ``frame_scores`` ``(B, T)``, the sigmoid of its frame logits.
* ``window``: a whole-video model (``test_window`` and / or a localisation head ``loc_head``).
  The graph is the network of one test window: ``B`` is a batch of windows of
  ``test_window.clip_len`` frames (and their audio rows); outputs ``clip_score`` ``(B,)`` (the
  window's score), ``frame_scores`` ``(B, T)`` (per-frame fake probability, the localisation
  head's when there is one, else the frame-level head's) and, with ``loc_head``,
  ``frame_offsets`` ``(B, T, 2)`` (distances to the segment's start and end, in frames). Cutting
  a video into windows, stitching them, the video score rule and the segment post-processing
  stay in Python (:mod:`holaframe.models.detectors.whole_video`, shared with the PyTorch
  model); the settings they need are recorded in the file (``holaframe.test_window`` and
  ``holaframe.post_processor``, JSON), so the runtime reads them from the graph, not from the
  config.

The export uses PyTorch's TorchScript-based exporter (``torch.onnx.export(..., dynamo=False)``),
which needs only the ``onnx`` package (the dynamo exporter also needs ``onnxscript``).
"""

import json
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from holaframe.models.data_preprocessors import AVDataPreprocessor
from holaframe.models.detectors.whole_video import cut_windows, window_starts

#: Graph input names, in order.
INPUT_NAMES = ('video', 'audio', 'has_audio')
#: Opset of the exported graphs (onnxruntime 1.31 runs up to 23).
DEFAULT_OPSET = 17
#: ``metadata_props`` keys written into the file.
META_PREFIX = 'holaframe.'
#: Values of the ``holaframe.graph`` metadata: one clip per input, or one test window per input.
GRAPH_KINDS = ('clip', 'window')


class OnnxExportWrapper(nn.Module):
    """A detector as a function of stacked pipeline tensors, for ``torch.onnx.export``.

    A model with ``test_window`` or a localisation head is wrapped as its per-window network
    (``_window_outputs``: window score, per-frame scores and boundary offsets); any other model
    as its clip network (``_outputs`` and ``_clip_logits``).

    Args:
        model (nn.Module): A :class:`~holaframe.models.detectors.HOLADetector` (or any model
            with ``_outputs(inputs)`` and ``_clip_logits(out)``, and ``_window_outputs(inputs)``
            for a whole-video model) in eval mode.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.test_window = getattr(model, 'test_window', None)
        self.has_offsets = getattr(model, 'loc_head', None) is not None
        self.whole_video = self.test_window is not None or self.has_offsets
        needed = ('_window_outputs', ) if self.whole_video else ('_outputs', '_clip_logits')
        for name in needed:
            if not hasattr(model, name):
                raise TypeError(f'onnx_export.py: {type(model).__name__} has no {name}(): only '
                                f'HOLADetector-style models can be exported')
        self.post_processor = getattr(model, 'post_processor', None)
        if self.has_offsets and not hasattr(self.post_processor, 'to_config'):
            raise TypeError(f'onnx_export.py: the post-processor '
                            f'{type(self.post_processor).__name__} has no to_config(): its '
                            f'settings cannot be recorded in the graph')
        self.model = model
        pre = getattr(model, 'data_preprocessor', None)
        self.normalize = bool(getattr(pre, '_normalize', False))
        if self.normalize:
            self.register_buffer('mean', pre.mean.detach().clone(), persistent=False)
            self.register_buffer('std', pre.std.detach().clone(), persistent=False)
        self.has_frame_scores = (getattr(model, 'aux_head', None) is not None
                                 or self.has_offsets)

    @property
    def output_names(self) -> List[str]:
        """``['clip_score']``, plus ``'frame_scores'`` for a model with a frame-level head and
        ``'frame_offsets'`` for one with a localisation head."""
        return (['clip_score'] + (['frame_scores'] if self.has_frame_scores else [])
                + (['frame_offsets'] if self.has_offsets else []))

    def metadata(self) -> Dict[str, str]:
        """``metadata_props`` the runtime needs: the kind of graph and, for a whole-video model,
        its ``test_window`` and post-processor settings (JSON)."""
        meta = dict(graph='window' if self.whole_video else 'clip')
        if self.test_window is not None:
            meta['test_window'] = json.dumps(dict(self.test_window), sort_keys=True)
        if self.has_offsets:
            meta['post_processor'] = json.dumps(self.post_processor.to_config(),
                                                sort_keys=True)
        return meta

    def example_window(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """The first test window of whole-clip example inputs (the inputs themselves when they
        are one window long, or for a model without ``test_window``)."""
        if self.test_window is None:
            return inputs
        k = self.test_window['clip_len']
        num_frames = inputs['video'].shape[2]
        if num_frames < k:
            raise ValueError(f'onnx_export.py: the example clip has {num_frames} frames, fewer '
                             f'than one test window (clip_len={k}); pad clips to a window '
                             f'(WholeVideoSampleFrames min_len)')
        if len(window_starts(num_frames, self.test_window)) == 1:
            return inputs
        # One window per clip of the batch.
        return cut_windows(inputs, [0], k)

    def forward(self, video: torch.Tensor, audio: torch.Tensor,
                has_audio: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Clip (or window) fake probability ``(B,)``, then the frame outputs, if any."""
        if self.normalize:
            video = (video - self.mean) / self.std
        keep = has_audio.to(audio.dtype).reshape(-1, *([1] * (audio.dim() - 1)))
        audio = audio * keep
        inputs = dict(video=video, audio=audio, has_audio=has_audio)
        if self.whole_video:
            res = self.model._window_outputs(inputs)
            keys = ['clip'] + (['frames'] if self.has_frame_scores else []) + (
                ['offsets'] if self.has_offsets else [])
            return tuple(res[k] for k in keys)
        out = self.model._outputs(inputs)
        clip = F.softmax(self.model._clip_logits(out), dim=-1)[:, 1]
        if self.has_frame_scores:
            return clip, torch.sigmoid(out['frame_logits'])
        return (clip, )


def stack_packed(samples: Sequence[dict]) -> Dict[str, torch.Tensor]:
    """Stack packed pipeline outputs into the graph's inputs (no normalisation).

    Args:
        samples (Sequence[dict]): Outputs of a test pipeline ending in ``PackAVInputs``
            (``inputs`` and ``data_samples``).

    Returns:
        dict: ``video`` (float, 0-255), ``audio`` (float, zero for silent clips) and
        ``has_audio`` (bool) tensors with a leading batch axis.
    """
    if not samples:
        raise ValueError('onnx_export.py: stack_packed needs at least one sample')
    batch = dict(inputs=[s['inputs'] for s in samples],
                 data_samples=[s.get('data_samples') for s in samples])
    if any(s is None for s in batch['data_samples']):
        batch['data_samples'] = None
    out = AVDataPreprocessor()(batch)['inputs']
    return {k: out[k] for k in INPUT_NAMES}


def export_onnx(model: nn.Module,
                inputs: Dict[str, torch.Tensor],
                out_file: str,
                opset: int = DEFAULT_OPSET,
                metadata: Optional[Dict[str, str]] = None) -> List[str]:
    """Write the inference graph of ``model`` to ``out_file`` with a dynamic batch axis.

    A whole-video model (``test_window`` or ``loc_head``) is exported as its per-window network
    (module docstring); its ``test_window`` and post-processor settings go into the metadata.

    Args:
        model (nn.Module): The detector (fp32, on the CPU); put in eval mode.
        inputs (dict): Example ``video``, ``audio``, ``has_audio`` tensors (see
            :func:`stack_packed`); their non-batch sizes become the graph's. For a model with
            ``test_window`` a whole clip of at least ``clip_len`` frames: its first window is
            the example.
        out_file (str): The ``.onnx`` file to write.
        opset (int): ONNX opset version.
        metadata (dict, optional): Extra ``metadata_props`` (e.g. the config's name).

    Returns:
        list[str]: The graph's output names.
    """
    import onnx

    missing = [k for k in INPUT_NAMES if k not in inputs]
    if missing:
        raise KeyError(f'onnx_export.py: example inputs lack {missing}')
    params = list(model.parameters())
    if any(p.device.type != 'cpu' for p in params):
        raise ValueError('onnx_export.py: export a CPU model (init_detector(..., device="cpu"))')
    model.eval()
    wrapper = OnnxExportWrapper(model).eval()
    names = wrapper.output_names
    inputs = wrapper.example_window(inputs)
    args = tuple(inputs[k] for k in INPUT_NAMES)
    dynamic = {k: {0: 'batch'} for k in list(INPUT_NAMES) + names}
    with warnings.catch_warnings(), torch.no_grad():
        # Shape checks inside the model's forward become constants: the exporter's
        # TracerWarnings say so, and only the batch axis is meant to vary.
        warnings.simplefilter('ignore')
        torch.onnx.export(wrapper, args, out_file, dynamo=False, opset_version=opset,
                          input_names=list(INPUT_NAMES), output_names=names,
                          dynamic_axes=dynamic, do_constant_folding=True)
    proto = onnx.load(out_file)
    meta = dict(metadata or {})
    meta.update(wrapper.metadata())
    meta.update(outputs=','.join(names), precision=meta.get('precision', 'fp32'))
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = META_PREFIX + key, str(value)
    onnx.save(proto, out_file)
    return names


def read_metadata(onnx_file: str) -> Dict[str, str]:
    """The ``holaframe.*`` ``metadata_props`` of an exported file (prefix removed)."""
    import onnx
    if not osp.isfile(onnx_file):
        raise FileNotFoundError(f'{onnx_file}: no such ONNX file')
    proto = onnx.load(onnx_file, load_external_data=False)
    return {p.key[len(META_PREFIX):]: p.value for p in proto.metadata_props
            if p.key.startswith(META_PREFIX)}
