# A dense recipe that a small model learns on the synthetic set (docs/hola_model.md): windows
# of 64 consecutive frames at the native 25 fps (half of the training windows centred on a fake
# segment), an 84 x 84 mouth crop, log-mel at 100 Hz grouped 4 per video frame (T, 160), and
# per-frame labels from `fake_segments`.
# SEGMENT SUPERVISION: this config uses `fake_segments` (FrameFakeMask and the fake-centred
# sampling), which the 1M-Deepfakes challenge's video-level rule does not allow. It is for the
# synthetic data and analysis only; the paper configs use video-level labels.
dataset_type = 'AVDeepfake1MDataset'
data_root = 'data/synthetic_avdf'
clip_len = 64
# A whole synthetic clip (at most 6 s) in one test window; shorter clips repeat the last frame.
test_clip_len = 160
mouth_box = (0.25, 0.45, 0.75, 0.95)
mouth_size = 84

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='DenseSampleFrames', clip_len=clip_len, fake_centred_prob=0.5),
    dict(type='DecordDecode'),
    dict(type='MouthCrop', box=mouth_box, size=mouth_size),
    dict(type='AudioDecode', sample_rate=16000),
    dict(type='AudioFrameLogMel', n_mels=40, group=4),
    dict(type='FrameFakeMask'),
    dict(type='PackAVInputs'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='DenseSampleFrames', clip_len=test_clip_len, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='MouthCrop', box=mouth_box, size=mouth_size),
    dict(type='AudioDecode', sample_rate=16000),
    dict(type='AudioFrameLogMel', n_mels=40, group=4),
    dict(type='FrameFakeMask'),
    dict(type='PackAVInputs'),
]
# Unlabeled test subsets have no segments: no FrameFakeMask there.
unlabeled_test_pipeline = [t for t in test_pipeline if t['type'] != 'FrameFakeMask']

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, subset='train',
                 pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, subset='val', test_mode=True,
                 pipeline=test_pipeline),
)
test_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='AVDeepfake1MTestDataset', data_root=data_root, subset='testA',
                 pipeline=unlabeled_test_pipeline),
)
