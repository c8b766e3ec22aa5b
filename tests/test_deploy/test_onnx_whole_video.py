"""ONNX export of whole-video models (test windows, localisation head) and their onnxruntime
detector: the same whole-video score, frame timeline and segments as PyTorch."""

import copy
import json
import os.path as osp

import numpy as np
import onnx
import pytest
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope

from holaframe.apis import init_detector
from holaframe.apis.inference import test_pipeline_cfg as pipeline_cfg
from holaframe.apis.service import VideoScorer, probe_video
from holaframe.deploy import (
    OnnxDetector,
    PackedCalibrationReader,
    export_onnx,
    quantize_onnx_dynamic,
    read_metadata,
    stack_packed,
)
from holaframe.deploy.onnx_quantization import graph_input_shapes
from holaframe.registry import MODELS
from holaframe.testing import make_indexed_clip
from holaframe.testing.tiny_localization_detector import (
    STRIDE,
    WINDOW,
    tiny_localization_model,
    write_tiny_localization_detector,
)

#: Largest difference of the fp32 graph's outputs (scores, frame scores, segment confidences
#: and boundaries) against PyTorch.
FP32_TOL = 1e-4
#: Frames of the clips: 150 (four 64-frame windows every 32 frames, the last one ending at frame
#: 150) and 40 (shorter than a window: padded to 64, the padding left out).
LONG, SHORT = 150, 40


@pytest.fixture(scope='module')
def loc(tmp_path_factory):
    """(PyTorch model, fp32 OnnxDetector, {frames: packed clip}, work dir)."""
    work = str(tmp_path_factory.mktemp('onnx_loc'))
    cfg_path, ckpt_path = write_tiny_localization_detector(work)
    model = init_detector(cfg_path, ckpt_path)
    with DefaultScope.overwrite_default_scope('holaframe'):
        pipeline = Compose(pipeline_cfg(model.cfg))
    clips = {}
    for n in (LONG, SHORT):
        path = make_indexed_clip(osp.join(work, f'clip{n}.mp4'), num_frames=n, size=64)
        clips[n] = pipeline(dict(filename=path, file=osp.basename(path), sample_idx=0,
                                 gt_label=-1))
    onnx_file = osp.join(work, 'loc.onnx')
    export_onnx(model, stack_packed([clips[LONG]]), onnx_file, metadata=dict(config='tiny.py'))
    return model, OnnxDetector(onnx_file, model.cfg, threads=1), clips, work


def _predict(model, data):
    with torch.no_grad():
        return model.test_step(pseudo_collate([copy.deepcopy(data)]))[0]


def assert_same_prediction(got, ref, tol=FP32_TOL):
    """Whole-video score, label, frame timeline and segments of two samples agree."""
    assert abs(float(got.pred_score) - float(ref.pred_score)) <= tol
    assert int(got.pred_label) == int(ref.pred_label)
    assert got.pred_frame_scores.shape == ref.pred_frame_scores.shape
    np.testing.assert_allclose(got.pred_frame_scores, ref.pred_frame_scores, rtol=0, atol=tol)
    np.testing.assert_array_equal(got.pred_frame_times, ref.pred_frame_times)
    assert got.pred_segments.shape == ref.pred_segments.shape
    np.testing.assert_allclose(got.pred_segments, ref.pred_segments, rtol=0, atol=tol)


@pytest.mark.parametrize('frames', [LONG, SHORT])
def test_fp32_whole_video_equals_pytorch(loc, frames):
    model, detector, clips, _ = loc
    data = clips[frames]
    assert data['inputs']['video'].shape[1] == max(frames, WINDOW)
    ref, got = _predict(model, data), _predict(detector, data)
    assert ref.pred_frame_scores.shape == (frames, )  # every real frame, no padding
    assert len(ref.pred_segments) >= 1
    assert_same_prediction(got, ref)
    if frames == LONG:  # the windows overlap: a stitching error would show in the middle
        assert model.window_starts(frames) == [0, STRIDE, 2 * STRIDE, LONG - WINDOW]
        assert float(got.pred_segments[:, 2].max()) <= LONG / 25 + 1e-6


def test_fewer_positions_than_frames(loc, tmp_path):
    """A neck that aligns a window to half as many positions as frames (as HOLA vit-base does):
    the graph interpolates the localisation outputs to frames as PyTorch does."""
    _, _, clips, _ = loc
    cfg = tiny_localization_model()
    cfg['neck'].update(in_length_video=WINDOW, in_length_audio=WINDOW, out_length=WINDOW // 2)
    torch.manual_seed(0)
    model = MODELS.build(cfg).eval()
    model.cfg = loc[0].cfg
    onnx_file = str(tmp_path / 'half.onnx')
    export_onnx(model, stack_packed([clips[LONG]]), onnx_file)
    detector = OnnxDetector(onnx_file, model.cfg, threads=1)
    with torch.no_grad():
        logits = model._outputs(stack_packed([clips[SHORT]]))['loc']['cls_logits']
    assert logits.shape == (1, WINDOW // 2)  # 32 positions for 64 frames
    assert_same_prediction(_predict(detector, clips[LONG]), _predict(model, clips[LONG]))


def test_window_batches_do_not_change_the_result(loc):
    """One window per graph call gives what four in one call give (the batch axis is the
    window axis)."""
    model, detector, clips, _ = loc
    ref = _predict(detector, clips[LONG])
    one = copy.copy(detector)
    one.test_window = dict(detector.test_window, max_batch=1)
    assert_same_prediction(_predict(one, clips[LONG]), ref, tol=1e-6)
    # Not the stitching of a shifted window: the result depends on where the windows are.
    shifted = copy.copy(detector)
    shifted.test_window = dict(detector.test_window, stride=WINDOW)
    other = _predict(shifted, clips[LONG])
    assert np.abs(other.pred_frame_scores.numpy() - ref.pred_frame_scores.numpy()).max() > 1e-4


def test_export_records_window_and_post_processor(loc):
    model, detector, clips, _ = loc
    meta = read_metadata(detector.onnx_file)
    assert meta['graph'] == 'window' and meta['config'] == 'tiny.py'
    assert meta['outputs'] == 'clip_score,frame_scores,frame_offsets'
    assert json.loads(meta['test_window']) == dict(clip_len=WINDOW, stride=STRIDE, max_batch=8,
                                                   video_score='max')
    assert json.loads(meta['post_processor']) == model.post_processor.to_config()
    assert json.loads(meta['post_processor'])['nms'] == 'soft'
    # The graph is one window: T = clip_len, a dynamic batch axis of windows.
    proto = onnx.load(detector.onnx_file)
    video = proto.graph.input[0].type.tensor_type.shape.dim
    assert video[0].dim_param == 'batch' and video[2].dim_value == WINDOW
    window = stack_packed([clips[SHORT]])
    out = detector.run(dict(window, video=window['video'].repeat(2, 1, 1, 1, 1),
                            audio=window['audio'].repeat(2, 1, 1),
                            has_audio=window['has_audio'].repeat(2)))
    assert out['clip_score'].shape == (2, ) and out['frame_scores'].shape == (2, WINDOW)
    assert out['frame_offsets'].shape == (2, WINDOW, 2) and (out['frame_offsets'] >= 0).all()
    assert detector.whole_video and detector.predicts_segments
    assert detector.test_window == model.test_window


def _with_metadata(src: str, dst: str, **changes) -> str:
    proto = onnx.load(src)
    props = {p.key: p.value for p in proto.metadata_props}
    for key, value in changes.items():
        if value is None:
            props.pop('holaframe.' + key, None)
        else:
            props['holaframe.' + key] = value
    del proto.metadata_props[:]
    for key, value in props.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, dst)
    return dst


def test_graph_without_its_settings_is_refused(loc, tmp_path):
    model, detector, _, _ = loc
    src = detector.onnx_file
    no_post = _with_metadata(src, str(tmp_path / 'a.onnx'), post_processor=None)
    with pytest.raises(ValueError, match=r'a\.onnx: unreadable whole-video settings.*'
                       'post_processor'):
        OnnxDetector(no_post, model.cfg)
    wrong_len = _with_metadata(src, str(tmp_path / 'b.onnx'),
                               test_window=json.dumps(dict(clip_len=32, stride=16)))
    with pytest.raises(ValueError, match=r'b\.onnx: the graph takes 64 frames per window'):
        OnnxDetector(wrong_len, model.cfg)
    bad_rule = _with_metadata(src, str(tmp_path / 'c.onnx'),
                              test_window=json.dumps(dict(clip_len=64, video_score='median')))
    with pytest.raises(ValueError, match=r'c\.onnx: unreadable whole-video settings'):
        OnnxDetector(bad_rule, model.cfg)


def test_int8_whole_video_graphs(loc):
    """Dynamic int8 keeps the metadata and stays close to fp32; static calibration cuts the
    clips into the graph's windows."""
    model, detector, clips, work = loc
    dyn = quantize_onnx_dynamic(detector.onnx_file, osp.join(work, 'loc_dyn.onnx'))
    meta = read_metadata(dyn)
    assert meta['precision'] == 'int8-dynamic' and meta['graph'] == 'window'
    assert 'MatMulInteger' in {n.op_type for n in onnx.load(dyn).graph.node}
    ref = _predict(detector, clips[LONG])
    got = _predict(OnnxDetector(dyn, model.cfg, threads=1), clips[LONG])
    assert abs(float(got.pred_score) - float(ref.pred_score)) <= 0.01
    assert np.abs(got.pred_frame_scores.numpy() - ref.pred_frame_scores.numpy()).max() <= 0.01
    assert got.pred_segments.shape[1] == 3 and len(got.pred_segments) >= 1
    reader = PackedCalibrationReader([clips[LONG], clips[SHORT]],
                                     input_shapes=graph_input_shapes(detector.onnx_file),
                                     test_window=dict(detector.test_window, max_batch=3))
    batches = [reader.get_next() for _ in range(len(reader))]
    assert [b['video'].shape[0] for b in batches] == [3, 1, 1] and reader.count == 2
    assert all(b['video'].shape[2] == WINDOW and b['audio'].shape[1] == WINDOW for b in batches)
    np.testing.assert_array_equal(batches[1]['video'][0],
                                  stack_packed([clips[LONG]])['video'][0, :, LONG - WINDOW:])


def test_detection_only_whole_video_graph(loc):
    """test_window without a localisation head: the graph gives the window score only, the
    runtime takes the windows' maximum."""
    _, _, clips, work = loc
    cfg_path, ckpt_path = write_tiny_localization_detector(work, localize=False)
    model = init_detector(cfg_path, ckpt_path)
    onnx_file = osp.join(work, 'detect.onnx')
    assert export_onnx(model, stack_packed([clips[LONG]]), onnx_file) == [
        'clip_score', 'frame_scores']  # the frame-level auxiliary head of the dense model
    detector = OnnxDetector(onnx_file, model.cfg, threads=1)
    assert detector.whole_video and not detector.predicts_segments
    ref, got = _predict(model, clips[LONG]), _predict(detector, clips[LONG])
    assert abs(float(got.pred_score) - float(ref.pred_score)) <= FP32_TOL
    np.testing.assert_allclose(got.pred_frame_scores, ref.pred_frame_scores, rtol=0,
                               atol=FP32_TOL)
    assert 'pred_segments' not in got and 'pred_segments' not in ref


def test_service_scorer_through_the_graph(loc):
    """The service's answer (timeline, segments, proposals) is the PyTorch model's."""
    model, detector, _, work = loc
    path = osp.join(work, f'clip{LONG}.mp4')
    info = probe_video(path)
    bodies = [VideoScorer(m, face_crop=False).score(path, info) for m in (model, detector)]
    ref, got = bodies
    assert got['localization']['source'] == 'localization_head' == ref['localization']['source']
    assert got['timeline']['times'] == ref['timeline']['times']
    assert len(got['timeline']['times']) == LONG
    assert max(abs(a - b) for a, b in zip(got['timeline']['scores'],
                                          ref['timeline']['scores'])) <= FP32_TOL
    assert got['segments'] == ref['segments']
    assert len(got['proposals']) == len(ref['proposals']) >= 1
    for a, b in zip(got['proposals'], ref['proposals']):
        assert all(abs(a[k] - b[k]) <= 2e-3 for k in ('start', 'end', 'confidence'))
