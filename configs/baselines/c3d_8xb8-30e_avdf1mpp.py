# C3D (Tran et al., ICCV 2015), the Table 1 video expert, at its standard size and input (16
# uniformly sampled frames resized to 128 px, 112 x 112 crops, as the paper trains it; 78.0 M
# parameters without fc8) with a two-class head, from random weights; the schedule and batch of
# the HOLA configs (AdamW, lr 1.5e-4, cosine, 30 epochs, 8 GPUs x 8 clips), video-level labels.
_base_ = [
    '../_base_/datasets/avdf1mpp_paper.py',
    '../_base_/schedules/adamw-cosine_30e.py',
    '../_base_/default_runtime.py',
]
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSampleFrames', num_frames=16, test_mode=False),
    dict(type='DecordDecode'),
    dict(type='VideoResize', short_side=128),
    dict(type='VideoRandomCrop', crop_size=112),
    dict(type='VideoFlip', prob=0.5),
    dict(type='AudioDecode', sample_rate=16000, normalize='peak'),
    dict(type='AudioMFCCSegments', n_mfcc=32),
    dict(type='PackAVInputs'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSampleFrames', num_frames=16, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='VideoResize', short_side=128),
    dict(type='VideoCenterCrop', crop_size=112),
    dict(type='AudioDecode', sample_rate=16000, normalize='peak'),
    dict(type='AudioMFCCSegments', n_mfcc=32),
    dict(type='PackAVInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
model = dict(
    type='SingleModalityClassifier',
    modality='video',
    data_preprocessor=dict(
        type='AVDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]),
    backbone=dict(type='C3D', num_frames=16, img_size=112),
    head=dict(type='ClsHead'),
)
val_evaluator = dict(type='VideoMetric')
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3,
                                     save_best='video/auc', rule='greater'))
