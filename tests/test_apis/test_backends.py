"""Inference backends and pipelined scoring (holaframe.apis.backends)."""

import glob
import os.path as osp
import threading

import pytest
import torch

from holaframe.apis import inference_detector, init_detector
from holaframe.apis.backends import build_scoring_model, iter_inference
from holaframe.deploy import OnnxDetector, export_onnx, stack_packed
from holaframe.testing import write_tiny_detector


@pytest.fixture(scope='module')
def tiny(tmp_path_factory, synthetic_avdf_root):
    """Tiny detector, its exported graph, and videos (good, silent, missing, corrupt)."""
    work = tmp_path_factory.mktemp('backends')
    cfg_path, ckpt_path = write_tiny_detector(str(work), synthetic_avdf_root)
    model = init_detector(cfg_path, ckpt_path)
    videos = sorted(glob.glob(osp.join(synthetic_avdf_root, 'val', '**', '*.mp4'),
                              recursive=True))[:4]
    corrupt = work / 'corrupt.mp4'
    corrupt.write_bytes(b'not a video' * 100)
    paths = videos[:2] + [str(work / 'missing.mp4'), str(corrupt)] + videos[2:]
    from mmengine.dataset import Compose
    from mmengine.registry import DefaultScope

    from holaframe.apis.inference import test_pipeline_cfg as pipeline_cfg
    with DefaultScope.overwrite_default_scope('holaframe'):
        data = Compose(pipeline_cfg(model.cfg))(dict(filename=videos[0], file='a', sample_idx=0,
                                                     gt_label=-1))
    onnx_file = str(work / 'tiny.onnx')
    export_onnx(model, stack_packed([data]), onnx_file)
    return cfg_path, ckpt_path, onnx_file, model, paths


@pytest.mark.parametrize('prefetch', [0, 1, 2])
def test_iter_inference_equals_inference_detector(tiny, prefetch):
    _, _, _, model, paths = tiny
    ref = inference_detector(model, paths)
    got = list(iter_inference(model, paths, prefetch=prefetch))
    assert [e['file'] for e in got] == paths
    for a, b in zip(got, ref):
        assert a == b  # same scores, labels, has_audio, and the same error messages
    assert got[2]['error'].startswith('FileNotFoundError') and got[3]['error']
    assert all(e['error'] is None for e in got[:2] + got[4:])


def test_onnxruntime_backend_scores_equal_pytorch(tiny):
    cfg_path, ckpt_path, onnx_file, model, paths = tiny
    ort_model = build_scoring_model(cfg_path, onnx_file, backend='onnxruntime', threads=1)
    assert isinstance(ort_model, OnnxDetector)
    ref = inference_detector(model, paths)
    got = list(iter_inference(ort_model, paths, threshold=0.3))
    for a, b in zip(got, ref):
        assert (a['error'] is None) == (b['error'] is None)
        if a['error'] is None:
            assert abs(a['score'] - b['score']) <= 1e-4
            assert a['label'] == int(a['score'] >= 0.3) and a['has_audio'] == b['has_audio']
    # inference_detector takes the onnxruntime model too.
    single = inference_detector(ort_model, paths[0])
    assert abs(single['score'] - ref[0]['score']) <= 1e-4


def test_build_scoring_model_errors(tiny, tmp_path):
    cfg_path, ckpt_path, onnx_file, _, _ = tiny
    with pytest.raises(ValueError, match='backend must be one of'):
        build_scoring_model(cfg_path, ckpt_path, backend='tensorrt')
    with pytest.raises(ValueError, match='quantized at export'):
        build_scoring_model(cfg_path, onnx_file, backend='onnxruntime', quantize='int8')
    with pytest.raises(ValueError, match='runs on the CPU'):
        build_scoring_model(cfg_path, onnx_file, backend='onnxruntime', device='cuda')
    with pytest.raises(FileNotFoundError, match='nope.onnx: no such ONNX file'):
        build_scoring_model(cfg_path, str(tmp_path / 'nope.onnx'), backend='onnxruntime')
    # A PyTorch checkpoint given as the graph.
    with pytest.raises(ValueError, match=r'tiny_hola\.pth: not a readable ONNX model'):
        build_scoring_model(cfg_path, ckpt_path, backend='onnxruntime')
    assert isinstance(build_scoring_model(cfg_path, ckpt_path), torch.nn.Module)


class _Recorder:
    """A model whose first clip waits until the second clip's decoding has started."""

    def __init__(self, model, started: threading.Event) -> None:
        self.cfg = model.cfg
        self.model = model
        self.started = started
        self.overlapped = []

    def eval(self):
        return self

    def test_step(self, data):
        self.overlapped.append(self.started.wait(timeout=20))
        return self.model.test_step(data)


def test_next_clip_is_decoded_while_the_model_runs(tiny, monkeypatch):
    _, _, _, model, paths = tiny
    clips = [p for p in paths if osp.isfile(p) and osp.basename(p) != 'corrupt.mp4'][:3]
    started = threading.Event()
    import holaframe.apis.backends as backends
    decode = backends._decode

    def watched(scorer, path, index):
        if index == 1:
            started.set()
        return decode(scorer, path, index)

    monkeypatch.setattr(backends, '_decode', watched)
    recorder = _Recorder(model, started)
    entries = list(iter_inference(recorder, clips, prefetch=1))
    assert all(e['error'] is None for e in entries), entries
    # While the model held clip 0, clip 1 was already being decoded.
    assert recorder.overlapped[0] is True
