"""A tiny HOLA detector overfits 16 synthetic clips (the paper's input, clip labels only)."""

import pytest
import torch
from mmengine.registry import init_default_scope

from holaframe.registry import DATASETS, MODELS

FRAMES, SIZE, DIM = 16, 64, 32

PIPELINE = [
    dict(type='DecordInit'),
    dict(type='UniformSampleFrames', num_frames=FRAMES, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='VideoResize', short_side=SIZE),
    dict(type='VideoCenterCrop', crop_size=SIZE),
    dict(type='AudioDecode', sample_rate=16000, normalize='peak'),
    dict(type='AudioMFCCSegments', n_mfcc=32),
    dict(type='PackAVInputs'),
]

MODEL = dict(
    type='HOLADetector',
    data_preprocessor=dict(type='AVDataPreprocessor', mean=[127.5] * 3, std=[64.0] * 3),
    video_encoder=dict(type='VideoViTEncoder', arch='nano', img_size=SIZE, num_frames=FRAMES),
    audio_encoder=dict(type='AudioViTEncoder', arch='nano', input_type='mfcc',
                       num_segments=FRAMES),
    fusion_encoder=dict(type='HiCMAEFusionEncoder', embed_dim=64, depth=1, num_heads=4),
    neck=dict(type='TemporalAlignmentNeck', in_channels_video=64, in_channels_audio=64,
              out_channels=DIM, in_length_video=(FRAMES // 2) * (SIZE // 16) ** 2,
              in_length_audio=FRAMES, out_length=FRAMES),
    interaction=dict(type='IterativeCrossModalInteraction', dim=DIM, num_heads=4),
    fusion=dict(type='LocalGlobalContextualFusion', dim=DIM, num_layers=1, num_heads=4),
    refiner=dict(type='PyramidRefiner', dim=DIM),
    head=dict(type='ClsHead', in_channels=DIM))


@pytest.mark.slow
def test_tiny_hola_overfits_16_synthetic_clips(synthetic_avdf_root):
    init_default_scope('holaframe')
    torch.manual_seed(0)
    dataset = DATASETS.build(dict(type='AVDeepfake1MDataset', data_root=synthetic_avdf_root,
                                  subset='train', pipeline=PIPELINE))
    items = [dataset[i] for i in range(len(dataset))]
    labels = [int(it['data_samples'].gt_label) for it in items]
    items = items[:16]
    assert len(items) == 16 and 0 < sum(labels[:16]) < 16, 'need both classes'
    model = MODELS.build(MODEL)
    model.train()
    batch = model.data_preprocessor(
        dict(inputs=[it['inputs'] for it in items],
             data_samples=[it['data_samples'] for it in items]), True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    history = []
    for _ in range(60):
        loss = sum(model(**batch, mode='loss').values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    start, end = history[0], min(history[-5:])
    assert end < 0.2 * start and end < 0.15, f'loss did not fall: {history[0]:.3f} -> {end:.3f}'
    model.eval()
    scores = torch.stack([s.pred_score for s in model(**batch, mode='predict')])
    assert ((scores >= 0) & (scores <= 1)).all()
    truth = torch.tensor(labels[:16])
    assert ((scores > 0.5).long() == truth).float().mean() >= 0.9
