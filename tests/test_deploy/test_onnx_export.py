"""ONNX export (holaframe.deploy.onnx_export) and the onnxruntime detector (onnx_detector)."""

import glob
import os.path as osp

import numpy as np
import onnx
import pytest
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope

from holaframe.apis import init_detector
from holaframe.apis.inference import test_pipeline_cfg as pipeline_cfg
from holaframe.deploy import OnnxDetector, export_onnx, read_metadata, stack_packed
from holaframe.testing import write_tiny_detector
from holaframe.testing.tiny_dense_detector import write_tiny_dense_detector

#: Largest |score difference| of the fp32 graph against eager PyTorch.
FP32_TOL = 1e-4


def packed_clips(model, root: str):
    """The val clips of the synthetic set (one of them silent) through the test pipeline."""
    files = sorted(glob.glob(osp.join(root, 'val', '**', '*.mp4'), recursive=True))
    with DefaultScope.overwrite_default_scope('holaframe'):
        pipeline = Compose(pipeline_cfg(model.cfg))
    return [pipeline(dict(filename=f, file=osp.basename(f), sample_idx=i, gt_label=-1))
            for i, f in enumerate(files)]


@pytest.fixture(scope='module', params=['tiny', 'dense'])
def exported(request, tmp_path_factory, synthetic_avdf_root):
    """(eager model, OnnxDetector, packed clips) of the tiny HOLA and tiny dense detectors."""
    work = str(tmp_path_factory.mktemp(f'onnx_{request.param}'))
    if request.param == 'tiny':
        cfg_path, ckpt_path = write_tiny_detector(work, synthetic_avdf_root)
    else:
        cfg_path, ckpt_path = write_tiny_dense_detector(work)
    model = init_detector(cfg_path, ckpt_path)
    clips = packed_clips(model, synthetic_avdf_root)
    onnx_file = osp.join(work, 'model.onnx')
    names = export_onnx(model, stack_packed(clips[:2]), onnx_file, metadata=dict(config='x.py'))
    return request.param, model, OnnxDetector(onnx_file, model.cfg, threads=1), clips, names


def _eager(model, clips):
    with torch.no_grad():
        return model.test_step(pseudo_collate(clips))


@pytest.mark.parametrize('batch', [1, 3])
def test_fp32_scores_equal_eager(exported, batch):
    name, model, detector, clips, _ = exported
    silent = [c for c in clips if not c['data_samples'].metainfo.get('has_audio', True)]
    voiced = [c for c in clips if c['data_samples'].metainfo.get('has_audio', True)]
    assert silent and voiced, 'the synthetic val set has a silent clip'
    chosen = (silent + voiced)[:batch]
    ref = _eager(model, chosen)
    got = detector.test_step(pseudo_collate(chosen))
    assert len(got) == batch
    ref_scores = np.array([float(s.pred_score) for s in ref])
    got_scores = np.array([float(s.pred_score) for s in got])
    np.testing.assert_allclose(got_scores, ref_scores, rtol=0, atol=FP32_TOL)
    assert [int(s.pred_label) for s in got] == [int(s.pred_label) for s in ref]
    if name == 'dense':  # frame scores: the sigmoid of the frame-level head's logits
        stacked = stack_packed(chosen)
        pre = model.data_preprocessor(dict(inputs=[c['inputs'] for c in chosen],
                                           data_samples=[c['data_samples'] for c in chosen]))
        with torch.no_grad():
            logits = model._outputs(pre['inputs'])['frame_logits']
        frames = detector.run(stacked)['frame_scores']
        assert frames.shape == tuple(logits.shape)
        np.testing.assert_allclose(frames, torch.sigmoid(logits).numpy(), rtol=0, atol=FP32_TOL)
        assert all(s.pred_frame_scores.shape == (logits.shape[1], ) for s in got)


def test_batch_axis_is_dynamic_and_outputs_named(exported):
    name, model, detector, clips, names = exported
    proto = onnx.load(detector.onnx_file)
    batch_dims = [i.type.tensor_type.shape.dim[0] for i in proto.graph.input]
    assert all(d.dim_param == 'batch' for d in batch_dims)
    expected = ['clip_score'] + (['frame_scores'] if name == 'dense' else [])
    assert names == expected == detector.output_names
    meta = read_metadata(detector.onnx_file)
    assert meta['precision'] == 'fp32' == detector.precision and meta['config'] == 'x.py'
    # The whole-batch result equals the clip-by-clip results (no cross-talk in the batch).
    together = detector.run(stack_packed(clips[:4]))['clip_score']
    alone = [detector.run(stack_packed([c]))['clip_score'][0] for c in clips[:4]]
    np.testing.assert_allclose(together, alone, rtol=0, atol=1e-6)


def test_wrong_input_shape_is_named(exported):
    _, _, detector, clips, _ = exported
    inputs = stack_packed(clips[:1])
    inputs['video'] = inputs['video'][:, :, :2]
    with pytest.raises(ValueError, match=r'model\.onnx: input video has shape'):
        detector.run(inputs)


def test_missing_and_bad_files(tmp_path, exported):
    cfg = exported[1].cfg
    with pytest.raises(FileNotFoundError, match='nothing.onnx: no such ONNX file'):
        OnnxDetector(str(tmp_path / 'nothing.onnx'), cfg)
    bad = tmp_path / 'bad.onnx'
    bad.write_bytes(b'this is not a protobuf' * 10)
    with pytest.raises(ValueError, match=r'bad\.onnx: not a readable ONNX model'):
        OnnxDetector(str(bad), cfg)
    other = tmp_path / 'other.onnx'
    torch.onnx.export(torch.nn.Linear(3, 2), (torch.randn(1, 3), ), str(other), dynamo=False,
                      input_names=['x'], output_names=['y'])
    with pytest.raises(ValueError, match=r"other\.onnx: inputs are \['x'\]"):
        OnnxDetector(str(other), cfg)
    with pytest.raises(FileNotFoundError, match='missing.onnx'):
        read_metadata(str(tmp_path / 'missing.onnx'))
