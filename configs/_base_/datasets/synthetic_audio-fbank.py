# Audio input of the audio-only Table 1 baselines on the synthetic AV-Deepfake1M++ set: a
# log-mel filterbank of the whole clip (AudioFbank, `n_mels` bins, 10 ms shift, zero-padded to
# `audio_frames` = 6 s, the longest synthetic clip), one (1, T, F) map per clip, video-level
# labels only. PackAVInputs and AVDataPreprocessor take a video entry as well, so one frame is
# decoded and shrunk to 16 x 16 px; the audio models never read it.
dataset_type = 'AVDeepfake1MDataset'
data_root = 'data/synthetic_avdf'
n_mels = 64
audio_frames = 600

pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSampleFrames', num_frames=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='VideoResize', short_side=16),
    dict(type='VideoCenterCrop', crop_size=16),
    dict(type='AudioDecode', sample_rate=16000),
    dict(type='AudioFbank', num_mel_bins=n_mels, target_length=audio_frames, align='start'),
    dict(type='PackAVInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, subset='train', pipeline=pipeline),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, subset='val', test_mode=True,
                 pipeline=pipeline),
)
test_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='AVDeepfake1MTestDataset', data_root=data_root, subset='testA',
                 pipeline=pipeline),
)
