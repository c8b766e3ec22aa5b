# Audio input of the audio-only Table 1 baselines on AV-Deepfake1M++: a log-mel filterbank of
# the clip (AudioFbank, `n_mels` = 80 bins as the speaker-verification models use, 10 ms shift,
# the first `audio_frames` = 10.24 s, zero-padded), one (1, T, F) map per clip, video-level
# labels only. PackAVInputs and AVDataPreprocessor take a video entry as well, so one frame is
# decoded and shrunk to 16 x 16 px; the audio models never read it.
dataset_type = 'AVDeepfake1MDataset'
data_root = 'data/AV-Deepfake1M-PlusPlus'
n_mels = 80
audio_frames = 1024

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
    dataset=dict(type=dataset_type, data_root=data_root, subset='train',
                 skip_bad_samples=True, pipeline=pipeline),
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
