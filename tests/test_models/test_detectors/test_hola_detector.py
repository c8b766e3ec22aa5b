"""HOLADetector: modes, gradients of every parameter, ablation swaps, silent clips."""

import copy

import pytest
import torch

from holaframe.registry import MODELS
from holaframe.structures import AVDataSample

T, SIZE, DIM = 4, 32, 32

VIT_HOLA = dict(
    type='HOLADetector',
    video_encoder=dict(type='VideoViTEncoder', arch='nano', img_size=SIZE, num_frames=T),
    audio_encoder=dict(type='AudioViTEncoder', arch='nano', input_type='mfcc', num_segments=T),
    fusion_encoder=dict(type='HiCMAEFusionEncoder', embed_dim=64, depth=1, num_heads=4),
    neck=dict(type='TemporalAlignmentNeck', in_channels_video=64, in_channels_audio=64,
              out_channels=DIM, in_length_video=(T // 2) * 4, in_length_audio=T, out_length=8),
    interaction=dict(type='IterativeCrossModalInteraction', dim=DIM, num_heads=4),
    fusion=dict(type='LocalGlobalContextualFusion', dim=DIM, num_layers=1, num_heads=4),
    refiner=dict(type='PyramidRefiner', dim=DIM),
    head=dict(type='ClsHead', in_channels=DIM),
    data_preprocessor=dict(type='AVDataPreprocessor', mean=[127.5] * 3, std=[64.0] * 3))

DENSE = dict(
    type='HOLADetector',
    video_encoder=dict(type='FrameConvStem', embed_dim=DIM, stage_channels=(8, 16)),
    audio_encoder=dict(type='FrameAudioEncoder', in_channels=20, embed_dim=DIM),
    neck=dict(type='TemporalAlignmentNeck', in_channels_video=DIM, in_channels_audio=DIM,
              out_channels=DIM, in_length_video=8, in_length_audio=8, out_length=8),
    interaction=dict(type='IterativeCrossModalInteraction', dim=DIM, num_heads=4),
    fusion=dict(type='LocalGlobalContextualFusion', dim=DIM, num_layers=1, num_heads=4),
    refiner=dict(type='PyramidRefiner', dim=DIM),
    head=dict(type='ClsHead', in_channels=DIM),
    aux_head=dict(type='FrameAuxHead', in_channels=DIM, hidden_channels=8, sync_offsets=2,
                  sync_source='aligned',
                  pooling=dict(type='TopKFramePooling', k=2)),
    predict_source='mean')


def _batch(model, frames, size, audio_shape, has_audio=(True, False, True, True)):
    torch.manual_seed(0)
    samples = []
    for i, flag in enumerate(has_audio):
        s = AVDataSample(metainfo=dict(has_audio=flag)).set_gt_label(i % 2)
        labels = torch.zeros(frames)
        if i % 2:
            labels[1:3] = 1
        s.frame_labels = labels
        samples.append(s)
    data = dict(inputs=dict(
        video=[torch.randint(0, 256, (3, frames, size, size), dtype=torch.uint8)
               for _ in has_audio],
        audio=[torch.randn(*audio_shape) for _ in has_audio]), data_samples=samples)
    return model.data_preprocessor(data, True)


def _check_all_grads(cfg, frames, size, audio_shape):
    model = MODELS.build(copy.deepcopy(cfg))
    model.train()
    batch = _batch(model, frames, size, audio_shape)
    losses = model(**batch, mode='loss')
    assert all(k.startswith('loss') for k in losses)
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    missing = [n for n, p in model.named_parameters()
               if p.requires_grad and (p.grad is None or not torch.isfinite(p.grad).all())]
    assert not missing, f'parameters without a finite gradient: {missing}'
    zero = [n for n, p in model.named_parameters()
            if p.grad is not None and p.grad.abs().sum() == 0]
    assert not zero, f'parameters with an all-zero gradient: {zero}'
    return model, batch


def test_full_hola_every_parameter_gets_a_gradient():
    _check_all_grads(VIT_HOLA, T, SIZE, (T, 32))


def test_dense_front_end_every_parameter_gets_a_gradient():
    _check_all_grads(DENSE, 8, 24, (8, 20))


def test_hicmae_baseline_every_parameter_gets_a_gradient():
    cfg = copy.deepcopy(VIT_HOLA)
    for key in ('neck', 'interaction', 'fusion', 'refiner'):
        cfg[key] = None
    cfg['head'] = dict(type='HiCMAEClsHead', video_dim=64, audio_dim=64, video_depth=2,
                       audio_depth=2)
    _check_all_grads(cfg, T, SIZE, (T, 32))


@pytest.mark.parametrize('removed', [('refiner',), ('refiner', 'fusion'),
                                     ('refiner', 'fusion', 'interaction')])
def test_ablation_rows_are_component_swaps(removed):
    cfg = copy.deepcopy(VIT_HOLA)
    for key in removed:
        cfg[key] = None
    model = MODELS.build(cfg).eval()
    batch = _batch(model, T, SIZE, (T, 32))
    assert model(**batch, mode='tensor').shape == (4, 2)
    for key in removed:
        assert getattr(model, key) is None


@pytest.mark.parametrize('cfg,frames,size,audio', [(VIT_HOLA, T, SIZE, (T, 32)),
                                                   (DENSE, 8, 24, (8, 20))])
def test_predict_probabilities_and_silent_clips(cfg, frames, size, audio):
    model = MODELS.build(copy.deepcopy(cfg)).eval()
    batch = _batch(model, frames, size, audio, has_audio=(False, False, True, False))
    batch['inputs']['audio'][[0, 1, 3]] = 0  # what the pipeline gives for silent clips
    logits = model(**batch, mode='tensor')
    assert logits.shape == (4, 2) and torch.isfinite(logits).all()
    preds = model(**batch, mode='predict')
    scores = torch.stack([p.pred_score for p in preds])
    assert ((scores >= 0) & (scores <= 1)).all()
    torch.testing.assert_close(scores, logits.softmax(-1)[:, 1])
    assert all(int(p.pred_label) == int(p.pred_score > 0.5) for p in preds)
    model.train()
    losses = model(**batch, mode='loss')
    assert all(torch.isfinite(v) for v in losses.values())
    # Silent audio never reaches the video stream: changing it changes nothing.
    model.eval()
    ref = model(**batch, mode='tensor')
    batch['inputs']['audio'][0] = 5.0
    torch.testing.assert_close(model(**batch, mode='tensor')[0], ref[0])


def test_invalid_arguments():
    cfg = copy.deepcopy(VIT_HOLA)
    cfg['predict_source'] = 'aux'
    with pytest.raises(ValueError, match='aux_head'):
        MODELS.build(cfg)
    cfg = copy.deepcopy(VIT_HOLA)
    cfg['neck'] = None
    with pytest.raises(ValueError, match='neck'):
        MODELS.build(cfg)
    model = MODELS.build(copy.deepcopy(VIT_HOLA))
    with pytest.raises(ValueError, match='invalid mode'):
        model(dict(video=None, audio=None), mode='bad')
