# The paper's input pipeline (16 uniform frames + MFCC-32 in 16 aligned segments, video-level
# labels only) on the synthetic AV-Deepfake1M++ set
# (python tools/data/make_synthetic_avdf.py data/synthetic_avdf). The frames are resized to
# `img_size` (smaller than the paper's 224 to fit 2 CPU cores).
dataset_type = 'AVDeepfake1MDataset'
data_root = 'data/synthetic_avdf'
num_frames = 16
img_size = 112

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSampleFrames', num_frames=num_frames, test_mode=False),
    dict(type='DecordDecode'),
    dict(type='VideoResize', short_side=img_size),
    dict(type='VideoCenterCrop', crop_size=img_size),
    dict(type='VideoFlip', prob=0.5),
    dict(type='AudioDecode', sample_rate=16000, normalize='peak'),
    dict(type='AudioMFCCSegments', n_mfcc=32),
    dict(type='PackAVInputs'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSampleFrames', num_frames=num_frames, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='VideoResize', short_side=img_size),
    dict(type='VideoCenterCrop', crop_size=img_size),
    dict(type='AudioDecode', sample_rate=16000, normalize='peak'),
    dict(type='AudioMFCCSegments', n_mfcc=32),
    dict(type='PackAVInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, subset='train',
                 pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, subset='val', test_mode=True,
                 pipeline=test_pipeline),
)
# Unlabeled testA in the order of testA_files.txt (its hidden labels, for analysis only, are
# in data_root/hidden_labels/testA_metadata.json).
test_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='AVDeepfake1MTestDataset', data_root=data_root, subset='testA',
                 pipeline=test_pipeline),
)
