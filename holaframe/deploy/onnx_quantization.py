"""int8 quantization of an exported ONNX detector with onnxruntime's quantization tools.

Two modes, both on the matrix products with a weight (``MatMul`` / ``Gemm`` whose second input
is an initializer: the linear layers), int8 weights with one scale per output channel:

* **dynamic** (:func:`quantize_onnx_dynamic`, ``quantize_dynamic``): each activation is
  quantized to uint8 at run time with its own range (``DynamicQuantizeLinear`` +
  ``MatMulInteger``). No calibration data.
* **static** (:func:`quantize_onnx_static`, ``quantize_static``, QDQ format): activation ranges
  are fixed beforehand from calibration batches (min / max over them), so no range is computed
  at run time (onnxruntime fuses the pattern into ``QLinearMatMul``). Calibration batches come
  from a :class:`PackedCalibrationReader` over packed pipeline outputs, e.g. the training set
  (:func:`dataset_samples`).

The attention products ``Q K^T`` and ``A V`` (two activations), the softmax, convolutions
(patch embeddings, the neck), LayerNorm and GELU stay fp32 in both modes. Quantizing the
attention products too (static QDQ on every ``MatMul``) was measured slower on the base model
(quantize / dequantize passes over the 8 x 1568 x 1568 attention maps) and less accurate.
"""

import os.path as osp
import random
import tempfile
from typing import Dict, Iterable, Iterator, List, Optional, Sequence

import numpy as np

from holaframe.models.detectors.whole_video import (
    check_test_window,
    cut_windows,
    window_chunks,
    window_starts,
)

from .onnx_export import META_PREFIX, stack_packed

#: Operators quantized in both modes.
QUANT_OP_TYPES = ('MatMul', 'Gemm')
#: Values of ``--int8``.
INT8_MODES = ('dynamic', 'static')


def _tag(out_file: str, precision: str, extra: Optional[Dict[str, str]] = None) -> None:
    """Record the precision (and calibration facts) in the file's metadata."""
    import onnx
    proto = onnx.load(out_file)
    props = {p.key: p.value for p in proto.metadata_props}
    props[META_PREFIX + 'precision'] = precision
    for key, value in (extra or {}).items():
        props[META_PREFIX + key] = str(value)
    del proto.metadata_props[:]
    for key, value in props.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, out_file)


def _preprocess(src: str, dst: str) -> List[str]:
    """onnxruntime's recommended pre-processing (shape inference and graph optimisation);
    returns the names of the matrix products with a weight initializer."""
    import onnx
    from onnxruntime.quantization.shape_inference import quant_pre_process
    quant_pre_process(src, dst, skip_symbolic_shape=True)
    proto = onnx.load(dst)
    weights = {t.name for t in proto.graph.initializer}
    return [n.name for n in proto.graph.node
            if n.op_type in QUANT_OP_TYPES and len(n.input) > 1 and n.input[1] in weights]


def quantize_onnx_dynamic(src: str, dst: str, per_channel: bool = True) -> str:
    """Dynamic int8: int8 weights, activations quantized at run time.

    Args:
        src (str): fp32 ``.onnx`` file from :func:`~holaframe.deploy.onnx_export.export_onnx`.
        dst (str): The int8 file to write.
        per_channel (bool): One weight scale per output channel (default) or per tensor.

    Returns:
        str: ``dst``.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic
    if not osp.isfile(src):
        raise FileNotFoundError(f'{src}: no such ONNX file to quantize')
    with tempfile.TemporaryDirectory() as tmp:
        pre = osp.join(tmp, 'pre.onnx')
        nodes = _preprocess(src, pre)
        quantize_dynamic(pre, dst, op_types_to_quantize=list(QUANT_OP_TYPES),
                         nodes_to_quantize=nodes, per_channel=per_channel,
                         weight_type=QuantType.QInt8)
    _tag(dst, 'int8-dynamic')
    return dst


class PackedCalibrationReader:
    """onnxruntime ``CalibrationDataReader`` over packed pipeline outputs.

    Each item of ``samples`` is what a pipeline ending in ``PackAVInputs`` returns; they are
    kept in memory (a clip's uint8 frames and features: 2.4 MB at 16 x 224 x 224) and stacked
    ``batch_size`` at a time into the graph's inputs (:func:`stack_packed`). The shapes must be
    the exported ones (same frames, crop and audio features). ``__len__`` and ``set_range``
    let the calibrator read one batch at a time and merge the ranges as it goes, so its memory
    holds one batch's intermediate tensors, not all of them.

    For the graph of a whole-video model (one test window per input) pass its ``test_window``:
    each clip is then cut into its windows as the runtime cuts it, and each batch is up to
    ``max_batch`` windows of one clip (``batch_size`` is not used).

    Args:
        samples (Iterable[dict]): Packed samples.
        batch_size (int): Samples per calibration batch.
        input_shapes (dict, optional): ``{name: non-batch shape}`` of the graph; a sample of
            another shape raises ``ValueError`` naming it.
        test_window (dict, optional): ``clip_len``, ``stride``, ``max_batch`` of a whole-video
            graph (its ``holaframe.test_window`` metadata).
    """

    def __init__(self, samples: Iterable[dict], batch_size: int = 1,
                 input_shapes: Optional[Dict[str, Sequence[int]]] = None,
                 test_window: Optional[dict] = None) -> None:
        self.batch_size = int(batch_size)
        self.input_shapes = {k: tuple(v) for k, v in (input_shapes or {}).items()}
        self.samples = list(samples)
        self.test_window = check_test_window(test_window)
        if self.test_window is None:
            self._batches = [(list(range(i, min(i + self.batch_size, len(self.samples)))), None)
                             for i in range(0, len(self.samples), self.batch_size)]
        else:
            self._batches = [
                ([i], chunk) for i, s in enumerate(self.samples)
                for chunk in window_chunks(
                    window_starts(s['inputs']['video'].shape[1], self.test_window),
                    self.test_window['max_batch'])]
        self._start, self._end = 0, len(self)
        self._next = 0
        self._seen = set()

    @property
    def count(self) -> int:
        """Clips read so far."""
        return len(self._seen)

    def __len__(self) -> int:
        """Number of batches."""
        return len(self._batches)

    def set_range(self, start_index: int, end_index: int) -> None:
        """Read batches ``start_index`` to ``end_index`` (exclusive) next."""
        self._start, self._end = int(start_index), min(int(end_index), len(self))
        self._next = self._start

    def get_next(self) -> Optional[Dict[str, np.ndarray]]:
        """The next batch as ``{input name: array}``, or None at the end of the range."""
        if self._next >= self._end:
            return None
        indices, starts = self._batches[self._next]
        items = [self.samples[i] for i in indices]
        self._next += 1
        inputs = stack_packed(items)
        if starts is not None and len(window_starts(inputs['video'].shape[2],
                                                    self.test_window)) > 1:
            inputs = cut_windows(inputs, starts, self.test_window['clip_len'])
        feed = {k: v.numpy() for k, v in inputs.items()}
        for name, shape in self.input_shapes.items():
            got = tuple(feed[name].shape[1:])
            if got != shape:
                files = [getattr(s.get('data_samples'), 'metainfo', {}).get('filename')
                         for s in items]
                raise ValueError(
                    f'onnx_quantization.py: calibration sample {files} gives {name} of shape '
                    f'{got}, the exported graph takes {shape}: calibrate with a pipeline that '
                    f'produces the exported shapes (the test pipeline does)')
        self._seen.update(indices)
        return feed


def _as_ort_reader(reader: PackedCalibrationReader):
    from onnxruntime.quantization import CalibrationDataReader

    class _Reader(CalibrationDataReader):

        def get_next(self):
            return reader.get_next()

        def __len__(self):
            return len(reader)

        def set_range(self, start_index: int, end_index: int) -> None:
            reader.set_range(start_index, end_index)

    return _Reader()


def graph_input_shapes(onnx_file: str) -> Dict[str, tuple]:
    """``{input name: non-batch shape}`` of an ONNX file (fixed sizes only)."""
    import onnx
    proto = onnx.load(onnx_file, load_external_data=False)
    shapes = {}
    for inp in proto.graph.input:
        dims = inp.type.tensor_type.shape.dim[1:]
        shapes[inp.name] = tuple(d.dim_value for d in dims)
    return shapes


def quantize_onnx_static(src: str, dst: str, reader: PackedCalibrationReader,
                         per_channel: bool = True, reduce_range: bool = False) -> str:
    """Static int8 (QDQ): activation ranges from calibration batches, int8 weights.

    Activations are uint8 and weights int8 (onnxruntime's fast path on x86). On x86 CPUs
    without VNNI instructions (AVX2 only) onnxruntime's documentation warns that uint8 x int8
    products may saturate; ``reduce_range=True`` (7-bit weights) avoids it there.

    Args:
        src (str): fp32 ``.onnx`` file.
        dst (str): The int8 file to write.
        reader (PackedCalibrationReader): Calibration batches, read one at a time.
        per_channel (bool): One weight scale per output channel (default).
        reduce_range (bool): 7-bit weights (see above).

    Returns:
        str: ``dst``.
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    if not osp.isfile(src):
        raise FileNotFoundError(f'{src}: no such ONNX file to quantize')
    if len(reader) == 0:
        raise ValueError(f'onnx_quantization.py: no calibration sample for {src}')
    with tempfile.TemporaryDirectory() as tmp:
        pre = osp.join(tmp, 'pre.onnx')
        nodes = _preprocess(src, pre)
        quantize_static(
            pre, dst, _as_ort_reader(reader), quant_format=QuantFormat.QDQ,
            op_types_to_quantize=list(QUANT_OP_TYPES), nodes_to_quantize=nodes,
            per_channel=per_channel,
            reduce_range=reduce_range, activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
            extra_options=dict(CalibStridedMinMax=1))
    _tag(dst, 'int8-static', dict(calibration_samples=reader.count))
    return dst


def dataset_samples(dataset_cfg: dict, num_samples: int, seed: int = 0,
                    pipeline: Optional[Sequence[dict]] = None,
                    scope: str = 'holaframe') -> Iterator[dict]:
    """``num_samples`` packed samples of a dataset, chosen at random with ``seed``.

    Args:
        dataset_cfg (dict): A dataset config (e.g. ``cfg.train_dataloader.dataset``).
        num_samples (int): How many samples (at most the dataset's length).
        seed (int): Seed of the choice.
        pipeline (Sequence[dict], optional): Replaces the dataset's own pipeline.
        scope (str): Registry scope.

    Yields:
        dict: Packed samples (``inputs`` and ``data_samples``).
    """
    import copy

    from mmengine.registry import DefaultScope

    from holaframe.registry import DATASETS
    cfg = copy.deepcopy(dict(dataset_cfg))
    if pipeline is not None:
        cfg['pipeline'] = list(pipeline)
    with DefaultScope.overwrite_default_scope(scope):
        dataset = DATASETS.build(cfg)
    if len(dataset) == 0:
        raise ValueError(f'onnx_quantization.py: the calibration dataset '
                         f'{cfg.get("data_root")!r} ({cfg.get("subset")!r}) is empty')
    order = random.Random(seed).sample(range(len(dataset)), min(num_samples, len(dataset)))
    for index in order:
        yield dataset[index]


def cpu_has_vnni() -> bool:
    """Whether the CPU (Linux ``/proc/cpuinfo``) has AVX-512 VNNI or AVX-VNNI."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('flags'):
                    flags = set(line.split(':', 1)[1].split())
                    return bool({'avx512_vnni', 'avx_vnni'} & flags)
    except OSError:
        pass
    return False
