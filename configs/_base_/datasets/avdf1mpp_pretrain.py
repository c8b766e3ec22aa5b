# Self-supervised AV-MAE pre-training on unlabeled talking-face videos (VoxCeleb2-like):
# 16 frames at stride 4 (HiCMAE) and a 128-bin log-mel fbank of 256 frames (2.56 s, aligned with
# the clip). HiCMAE pre-trains at 160 x 160. `data_root` holds the videos; list them in
# `list_file` (one relative path per line) or let `pattern` glob them.
dataset_type = 'AVVideoDataset'
data_root = 'data/pretrain_videos'
img_size = 160

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
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, list_file=None, pattern='**/*.mp4',
                 skip_bad_samples=True, pipeline=train_pipeline),
)
# No validation or test loop: pre-training is self-supervised.
