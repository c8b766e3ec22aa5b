# AV-Deepfake1M++ with the paper's input (Sec. 3.2.1 / 4.1.1): T = 16 uniformly sampled frames,
# short side resized to 224, and 32 MFCC coefficients split into 16 segments aligned with the
# frames. Video-level labels only (the challenge rule): no segment field reaches the loss.
# Point `data_root` at the download (train/, val/, testA/, *_metadata.json, testA_files.txt).
dataset_type = 'AVDeepfake1MDataset'
data_root = 'data/AV-Deepfake1M-PlusPlus'
num_frames = 16
img_size = 224

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSampleFrames', num_frames=num_frames, test_mode=False),
    dict(type='DecordDecode'),
    dict(type='VideoResize', short_side=img_size),
    dict(type='VideoRandomCrop', crop_size=img_size),
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

# Small per-process batches for CPU; the paper used 8 GPUs x 8 = 64.
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, subset='train',
                 skip_bad_samples=True, pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, subset='val', test_mode=True,
                 pipeline=test_pipeline),
)
# The unlabeled testA subset, in the order of testA_files.txt (the submission order).
test_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='AVDeepfake1MTestDataset', data_root=data_root, subset='testA',
                 pipeline=test_pipeline),
)
