# AV-MAE pre-training input on the synthetic set's unlabeled videos (train subset, labels
# ignored): 16 frames at stride 4 and a HiCMAE fbank (1, 256, 128). `img_size` is small for CPU
# (HiCMAE itself pre-trains at 160).
dataset_type = 'AVVideoDataset'
data_root = 'data/synthetic_avdf'
img_size = 64

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleClipFrames', clip_len=16, frame_interval=4),
    dict(type='DecordDecode'),
    dict(type='VideoResize', short_side=img_size),
    dict(type='VideoRandomCrop', crop_size=img_size),
    dict(type='VideoFlip', prob=0.5),
    dict(type='AudioDecode', sample_rate=16000, window=2.575),  # the fbank's 2.575 s only
    dict(type='AudioFbank', num_mel_bins=128, target_length=256),
    dict(type='PackAVInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, pattern='train/**/*.mp4',
                 pipeline=train_pipeline),
)
# No validation or test loop: pre-training is self-supervised.
