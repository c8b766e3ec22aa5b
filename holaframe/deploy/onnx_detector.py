"""An exported detector run by onnxruntime, with the interface the inference code uses.

:class:`OnnxDetector` stands where a PyTorch detector from ``init_detector`` stands:
``cfg`` (the config, whose test pipeline prepares the clips), ``eval()`` and
``test_step(data)`` returning :class:`~holaframe.structures.AVDataSample` with ``pred_score``
and ``pred_label``. A graph with a ``frame_scores`` output also sets ``pred_frame_scores``
(``(T,)`` float tensor) on each sample. The data pipeline is the config's; only the model
call differs.
"""

import os.path as osp
from typing import Dict, List, Optional, Union

import numpy as np
import torch
from mmengine.config import Config

from holaframe.structures import AVDataSample

from .onnx_export import INPUT_NAMES, read_metadata, stack_packed


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
        ValueError: The file is not an ONNX model, or not a holaframe detector graph.
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

    def test_step(self, data: Union[dict, List[dict]]) -> List[AVDataSample]:
        """Score a collated batch (``pseudo_collate`` of packed samples) like
        ``model.test_step``.

        Returns:
            list[AVDataSample]: ``pred_score``, ``pred_label`` and, for graphs with frame
            scores, ``pred_frame_scores``.
        """
        inputs = data['inputs']
        samples = data.get('data_samples')
        if isinstance(inputs, dict):  # already stacked by the collate function
            keys = list(inputs)
            inputs = [{k: inputs[k][i] for k in keys} for i in range(len(inputs[keys[0]]))]
        packed = [dict(inputs=x, data_samples=None if samples is None else samples[i])
                  for i, x in enumerate(inputs)]
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
