"""HOLADetector whole-video prediction: sliding windows, stitching, localisation outputs."""

import copy

import pytest
import torch

from holaframe.registry import MODELS
from holaframe.structures import AVDataSample

DIM, SIZE, MELS = 16, 16, 12

LOC = dict(
    type='HOLADetector',
    video_encoder=dict(type='FrameConvStem', embed_dim=DIM, stage_channels=(4, 8)),
    audio_encoder=dict(type='FrameAudioEncoder', in_channels=MELS, embed_dim=DIM),
    neck=dict(type='TemporalAlignmentNeck', in_channels_video=DIM, in_channels_audio=DIM,
              out_channels=DIM, in_length_video=None, in_length_audio=None, out_length=None,
              add_pos_embed=False),
    interaction=dict(type='IterativeCrossModalInteraction', dim=DIM, num_layers=1, num_heads=2,
                     rel_pos_distance=4),
    fusion=dict(type='LocalGlobalContextualFusion', dim=DIM, num_layers=1, num_heads=2,
                rel_pos_distance=4),
    refiner=dict(type='PyramidRefiner', dim=DIM),
    head=dict(type='ClsHead', in_channels=DIM),
    loc_head=dict(type='LocalizationHead', in_channels=DIM, hidden_channels=8,
                  dilations=(1, 2), sync_offsets=2),
    post_processor=dict(type='SegmentPostProcessor', max_per_video=5),
    test_window=dict(clip_len=16, stride=8, max_batch=2),
    data_preprocessor=dict(type='AVDataPreprocessor', mean=[127.5] * 3, std=[64.0] * 3))


def _inputs(model, frames, valid=None, fps=25.0):
    torch.manual_seed(1)
    sample = AVDataSample(metainfo=dict(
        has_audio=True, avg_fps=fps, num_frames=valid or frames,
        num_valid_frames=valid or frames,
        frame_inds=[min(i, (valid or frames) - 1) for i in range(frames)]))
    sample.set_gt_label(1)
    data = dict(inputs=dict(
        video=[torch.randint(0, 256, (3, frames, SIZE, SIZE), dtype=torch.uint8)],
        audio=[torch.randn(frames, MELS)]), data_samples=[sample])
    return model.data_preprocessor(data, False)


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    m = MODELS.build(copy.deepcopy(LOC))
    m.eval()
    return m


def test_window_starts_cover_the_clip(model):
    assert model.window_starts(10) == [0]
    assert model.window_starts(16) == [0]
    assert model.window_starts(50) == [0, 8, 16, 24, 32, 34]  # the last one ends at frame 50


@torch.no_grad()
def test_stitching_and_video_score_match_the_windows(model):
    data = _inputs(model, 50)
    out = model._stitched_outputs(data['inputs'])
    wins = []
    for s in model.window_starts(50):
        win = dict(video=data['inputs']['video'][:, :, s:s + 16],
                   audio=data['inputs']['audio'][:, s:s + 16],
                   has_audio=data['inputs']['has_audio'])
        wins.append((s, model._window_outputs(win)))
    # Video score: the maximum over the windows.
    assert float(out['clip'][0]) == pytest.approx(max(float(w['clip'][0]) for _, w in wins),
                                                  rel=1e-5)
    # Frames 0-7 lie in window 0 only; frames 48-49 in the last window only.
    assert torch.allclose(out['frames'][0, :8], wins[0][1]['frames'][0, :8], atol=1e-6)
    assert torch.allclose(out['frames'][0, 48:], wins[-1][1]['frames'][0, 14:], atol=1e-6)
    # Frame 20 lies in windows starting at 8 and 16: the mean of the two.
    mean20 = 0.5 * (wins[1][1]['frames'][0, 12] + wins[2][1]['frames'][0, 4])
    assert float(out['frames'][0, 20]) == pytest.approx(float(mean20), rel=1e-5)
    mean_off = 0.5 * (wins[1][1]['offsets'][0, 12] + wins[2][1]['offsets'][0, 4])
    assert torch.allclose(out['offsets'][0, 20], mean_off, atol=1e-6)


def test_predict_gives_segments_over_the_whole_clip(model):
    data = _inputs(model, 50)
    sample = model.predict(data['inputs'], data['data_samples'])[0]
    segs = sample.pred_segments
    assert segs.dtype == torch.float32 and segs.ndim == 2 and segs.shape[1] == 3
    assert 1 <= segs.shape[0] <= 5
    assert torch.all(segs[:-1, 0] >= segs[1:, 0])
    assert float(segs[:, 1:].min()) >= 0 and float(segs[:, 2].max()) <= 50 / 25.0 + 1e-6
    assert sample.pred_frame_scores.shape == (50, )
    assert torch.allclose(sample.pred_frame_times[[0, -1]], torch.tensor([0.02, 1.98]))
    assert 0.0 <= float(sample.pred_score) <= 1.0


def test_padding_of_a_short_clip_is_left_out(model):
    data = _inputs(model, 16, valid=10)  # a 10-frame clip padded to one 16-frame window
    sample = model.predict(data['inputs'], data['data_samples'])[0]
    assert sample.pred_frame_scores.shape == (10, )
    assert float(sample.pred_segments[:, 2].max()) <= 10 / 25.0 + 1e-6


def test_loss_has_localisation_terms_only_with_targets(model):
    model.train()
    try:
        data = _inputs(model, 16)
        losses = model.loss(data['inputs'], data['data_samples'])
        assert losses['loss_loc_cls'].item() == 0.0
        s = data['data_samples'][0]
        s.frame_labels = torch.zeros(16)
        s.frame_labels[4:9] = 1
        s.loc_targets = torch.zeros(16, 2)
        s.loc_targets[4:9, 0] = (torch.arange(5) + 0.5) / 25
        s.loc_targets[4:9, 1] = (5 - torch.arange(5) - 0.5) / 25
        losses = model.loss(data['inputs'], data['data_samples'])
        assert losses['loss_loc_cls'].item() > 0 and losses['loss_loc_reg'].item() > 0
        assert set(losses) >= {'loss_cls', 'loss_loc_cls', 'loss_loc_reg'}
    finally:
        model.eval()


def test_detection_only_window_and_errors():
    cfg = copy.deepcopy(LOC)
    cfg.pop('loc_head')
    m = MODELS.build(cfg).eval()
    data = _inputs(m, 40)
    sample = m.predict(data['inputs'], data['data_samples'])[0]
    assert 'pred_segments' not in sample and 'pred_frame_scores' not in sample
    assert 0.0 <= float(sample.pred_score) <= 1.0
    bad = dict(data['inputs'], audio=torch.randn(1, 16, MELS))
    with pytest.raises(ValueError, match='one row per video frame'):
        m.predict(bad, data['data_samples'])
    for window in (dict(stride=4), dict(clip_len=8, stride=9), dict(clip_len=8, video_score='x')):
        cfg2 = copy.deepcopy(cfg)
        cfg2['test_window'] = window
        with pytest.raises(ValueError, match='hola_detector.py: test_window'):
            MODELS.build(cfg2)


def test_without_window_or_loc_head_predict_is_unchanged():
    cfg = copy.deepcopy(LOC)
    cfg.pop('loc_head')
    cfg.pop('test_window')
    m = MODELS.build(cfg).eval()
    data = _inputs(m, 16)
    sample = m.predict(data['inputs'], data['data_samples'])[0]
    probs = torch.softmax(m(data['inputs'], mode='tensor'), -1)[0]
    assert float(sample.pred_score) == pytest.approx(float(probs[1]), rel=1e-6)
    assert 'pred_frame_scores' not in sample


@torch.no_grad()
def test_tensor_mode_of_a_whole_video_is_the_window_score(model):
    data = _inputs(model, 50)
    logits = model(data['inputs'], mode='tensor')
    p = model._stitched_outputs(data['inputs'])['clip']
    assert logits.shape == (1, 2)
    assert torch.allclose(logits.softmax(-1)[:, 1], p, atol=1e-5)
