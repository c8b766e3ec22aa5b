"""An exported detector run by onnxruntime, with the interface the inference code uses.

:class:`OnnxDetector` stands where a PyTorch detector from ``init_detector`` stands:
``cfg`` (the config, whose test pipeline prepares the clips), ``eval()`` and
``test_step(data)`` returning :class:`~holaframe.structures.AVDataSample` with ``pred_score``
and ``pred_label``. A graph with a ``frame_scores`` output also sets ``pred_frame_scores``
(``(T,)`` float tensor) on each sample. The data pipeline is the config's; only the model
call differs.

A whole-video graph (``holaframe.graph`` = ``window``, exported from a model with
``test_window`` or a localisation head) is the network of one test window: each clip is cut into
windows, scored ``max_batch`` windows per run and stitched by
:mod:`holaframe.models.detectors.whole_video`, the code the PyTorch model runs, with the
``test_window`` and post-processor settings recorded in the file. Each sample then gets what
``model.test_step`` gives: ``pred_score``, ``pred_label``, ``pred_frame_scores``,
``pred_frame_times`` and, with a ``frame_offsets`` output, ``pred_segments``.
"""

import json
import os.path as osp
from typing import Dict, List, Optional, Union

import numpy as np
import torch
from mmengine.config import Config

from holaframe.models.detectors.whole_video import (
    check_test_window,
    set_whole_video_predictions,
    stitch_windows,
)
from holaframe.registry import MODELS
from holaframe.structures import AVDataSample

from .onnx_export import GRAPH_KINDS, INPUT_NAMES, read_metadata, stack_packed

#: Graph outputs -> keys of the window outputs that the stitching reads.
WINDOW_OUTPUTS = dict(clip_score='clip', frame_scores='frames', frame_offsets='offsets')


class OnnxDetector:
    """An ``.onnx`` file from :func:`~holaframe.deploy.onnx_export.export_onnx` in an
    ``onnxruntime.InferenceSession`` on the CPU.

    Args:
        onnx_file (str): The exported graph (fp32 or int8).
        cfg (Config): The config it was exported from (its test pipeline is used).
        threads (int, optional): onnxruntime intra-op threads (default: its own choice, one per
            core).

    Raises:
        FileNotFoundError: ``onnx_file`` does not exist.
        ValueError: The file is not an ONNX model, not a holaframe detector graph, or a
            whole-video graph without the settings its stitching needs.
    """

    def __init__(self, onnx_file: str, cfg: Config, threads: Optional[int] = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ImportError('onnx_detector.py: the onnxruntime backend needs onnxruntime: '
                              'pip install -e ".[deploy]"') from exc
        if not osp.isfile(onnx_file):
            raise FileNotFoundError(f'{onnx_file}: no such ONNX file')
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = int(threads)
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(onnx_file, opts,
                                                providers=['CPUExecutionProvider'])
        except Exception as exc:  # onnxruntime raises its own Fail / InvalidProtobuf types
            raise ValueError(f'{onnx_file}: not a readable ONNX model ({type(exc).__name__}: '
                             f'{str(exc).splitlines()[0] if str(exc) else ""})') from exc
        names = [i.name for i in self.session.get_inputs()]
        if tuple(names) != INPUT_NAMES:
            raise ValueError(f'{onnx_file}: inputs are {names}, a holaframe detector graph '
                             f'takes {list(INPUT_NAMES)} (export it with '
                             f'tools/deployment/export_onnx.py)')
        self.output_names = [o.name for o in self.session.get_outputs()]
        if 'clip_score' not in self.output_names:
            raise ValueError(f'{onnx_file}: no clip_score output (outputs: '
                             f'{self.output_names})')
        self.input_shapes = {i.name: tuple(i.shape[1:]) for i in self.session.get_inputs()}
        self.onnx_file = onnx_file
        self.metadata = read_metadata(onnx_file)
        self.cfg = cfg
        self.has_frame_scores = 'frame_scores' in self.output_names
        self.has_frame_offsets = 'frame_offsets' in self.output_names
        self._read_window_settings()

    def _read_window_settings(self) -> None:
        """``whole_video``, ``test_window`` and ``post_processor`` from the file's metadata."""
        kind = self.metadata.get('graph', 'clip')
        if kind not in GRAPH_KINDS:
            raise ValueError(f'{self.onnx_file}: holaframe.graph is {kind!r}, expected one of '
                             f'{GRAPH_KINDS}')
        self.whole_video = kind == 'window'
        self.test_window = self.post_processor = None
        try:
            if 'test_window' in self.metadata:
                self.test_window = check_test_window(json.loads(self.metadata['test_window']))
            if self.has_frame_offsets:
                if 'post_processor' not in self.metadata:
                    raise ValueError('no holaframe.post_processor metadata for its '
                                     'frame_offsets output')
                self.post_processor = MODELS.build(json.loads(self.metadata['post_processor']))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f'{self.onnx_file}: unreadable whole-video settings ({exc}); '
                             f'export it again with tools/deployment/export_onnx.py') from exc
        if self.has_frame_offsets and not self.whole_video:
            raise ValueError(f'{self.onnx_file}: a frame_offsets output in a clip graph')
        if self.test_window is not None:
            frames = self.input_shapes['video'][1]
            if frames != self.test_window['clip_len']:
                raise ValueError(f'{self.onnx_file}: the graph takes {frames} frames per '
                                 f'window, its test_window says clip_len='
                                 f'{self.test_window["clip_len"]}')

    @property
    def predicts_segments(self) -> bool:
        """Whether ``test_step`` gives ``pred_segments`` (a graph with ``frame_offsets``)."""
        return self.has_frame_offsets

    @property
    def precision(self) -> str:
        """``fp32``, ``int8-dynamic`` or ``int8-static`` (from the file's metadata)."""
        return self.metadata.get('precision', 'fp32')

    def eval(self) -> 'OnnxDetector':
        """No-op (an exported graph is always in inference mode)."""
        return self

    def run(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, np.ndarray]:
        """Run the graph on stacked inputs (:func:`stack_packed`); ``{output name: array}``."""
        feed = {}
        for name in INPUT_NAMES:
            value = inputs[name]
            array = value.numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
            expected = self.input_shapes[name]
            if tuple(array.shape[1:]) != expected:
                raise ValueError(f'{self.onnx_file}: input {name} has shape '
                                 f'{tuple(array.shape[1:])} per clip, the graph takes '
                                 f'{expected}: use the config it was exported from')
            feed[name] = array.astype(np.bool_ if name == 'has_audio' else np.float32,
                                      copy=False)
        return dict(zip(self.output_names, self.session.run(self.output_names, feed)))

    def _window_outputs(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """The graph on a batch of windows, as the window outputs the stitching reads."""
        out = self.run(inputs)
        return {WINDOW_OUTPUTS[name]: torch.from_numpy(np.asarray(value))
                for name, value in out.items() if name in WINDOW_OUTPUTS}

    def test_step(self, data: Union[dict, List[dict]]) -> List[AVDataSample]:
        """Score a collated batch (``pseudo_collate`` of packed samples) like
        ``model.test_step``.

        Returns:
            list[AVDataSample]: ``pred_score``, ``pred_label`` and, for graphs with frame
            scores, ``pred_frame_scores``; a whole-video graph also sets ``pred_frame_times``
            over the clip's real frames, and ``pred_segments`` with ``frame_offsets``.
        """
        inputs = data['inputs']
        samples = data.get('data_samples')
        if isinstance(inputs, dict):  # already stacked by the collate function
            keys = list(inputs)
            inputs = [{k: inputs[k][i] for k in keys} for i in range(len(inputs[keys[0]]))]
        packed = [dict(inputs=x, data_samples=None if samples is None else samples[i])
                  for i, x in enumerate(inputs)]
        if self.whole_video:  # one clip at a time: whole videos differ in length
            results = []
            for item in packed:
                out = stitch_windows(stack_packed([item]), self.test_window,
                                     self._window_outputs)
                sample = item['data_samples']
                results += set_whole_video_predictions(
                    out, None if sample is None else [sample], self.post_processor)
            return results
        out = self.run(stack_packed(packed))
        results = []
        for i, score in enumerate(out['clip_score']):
            sample = AVDataSample() if samples is None else samples[i]
            sample.set_pred_score(torch.tensor(float(score)))
            sample.set_pred_label(torch.tensor(int(score >= 0.5)))
            if self.has_frame_scores:
                sample.pred_frame_scores = torch.from_numpy(np.array(out['frame_scores'][i]))
            results.append(sample)
        return results


def load_onnx_detector(config: Union[str, Config], onnx_file: str,
                       threads: Optional[int] = None) -> OnnxDetector:
    """Read a config and an exported graph into an :class:`OnnxDetector`.

    Args:
        config (str | Config): The config the graph was exported from.
        onnx_file (str): The ``.onnx`` file.
        threads (int, optional): onnxruntime intra-op threads.
    """
    if isinstance(config, str):
        if not osp.isfile(config):
            raise FileNotFoundError(f'Config file not found: {config}')
        config = Config.fromfile(config)
    return OnnxDetector(onnx_file, config, threads=threads)
