# PANNs CNN14 (Kong et al., TASLP 2020), the Table 1 audio expert, at its standard size (64 mel
# bins, 2048-d embedding; 79.7 M parameters without the AudioSet layer) with a two-class head,
# from random weights; the schedule and batch of the HOLA configs (AdamW, lr 1.5e-4, cosine,
# 30 epochs, 8 GPUs x 8 clips), video-level labels only.
_base_ = [
    '../_base_/datasets/avdf1mpp_audio-fbank.py',
    '../_base_/schedules/adamw-cosine_30e.py',
    '../_base_/default_runtime.py',
]
# CNN14's input: 64 mel bins (the dataset fragment's 80 are the speaker models').
pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSampleFrames', num_frames=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='VideoResize', short_side=16),
    dict(type='VideoCenterCrop', crop_size=16),
    dict(type='AudioDecode', sample_rate=16000),
    dict(type='AudioFbank', num_mel_bins=64, target_length=1024, align='start'),
    dict(type='PackAVInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=pipeline))
val_dataloader = dict(dataset=dict(pipeline=pipeline))
test_dataloader = dict(dataset=dict(pipeline=pipeline))
model = dict(
    type='SingleModalityClassifier',
    modality='audio',
    data_preprocessor=dict(type='AVDataPreprocessor'),
    backbone=dict(type='CNN14', in_channels=64),
    head=dict(type='ClsHead'),
)
val_evaluator = dict(type='VideoMetric')
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3,
                                     save_best='video/auc', rule='greater'))
