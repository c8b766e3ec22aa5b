# Temporal localisation (Track 2) on the synthetic data: the dense tiny HOLA model of
# configs/hola/hola-dense_tiny_1xb8-10min_synthetic.py plus a LocalizationHead on the fused
# per-frame features (per-frame fake probability and distances to the segment boundaries,
# ActionFormer-style), trained jointly with the clip classifier and the frame auxiliary head.
# Prediction covers the whole video: every frame is decoded (WholeVideoSampleFrames), the model
# scores windows of 160 frames every 80 frames, stitches the frame scores and takes the maximum
# window score as the video's detection score; SegmentPostProcessor turns the stitched outputs
# into at most 100 proposals [confidence, start_s, end_s] per video (Gaussian soft-NMS).
# Target: AP@0.5 >= 0.8 on the synthetic val subset within about 10 minutes on 2 CPU cores;
# measured results in docs/localization.md.
# USES SEGMENT LABELS (fake_segments -> frame_labels and loc_targets), as Track 2 does.
_base_ = ['../hola/hola-dense_tiny_1xb8-10min_synthetic.py']

mouth_box = (0.25, 0.45, 0.75, 0.95)
mouth_size = 48
test_window = 160
model = dict(
    loc_head=dict(type='LocalizationHead', in_channels=64, hidden_channels=64,
                  dilations=(1, 2, 4, 8), sync_offsets=4, sync_source='aligned',
                  cls_loss_weight=1.0, reg_loss_weight=1.0),
    post_processor=dict(type='SegmentPostProcessor', nms='soft', sigma=0.5, max_per_video=100,
                        mask_threshold=0.5),
    test_window=dict(clip_len=test_window, stride=test_window // 2, video_score='max'))

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='DenseSampleFrames', clip_len=64, fake_centred_prob=0.5),
    dict(type='DecordDecode'),
    dict(type='MouthCrop', box=mouth_box, size=mouth_size),
    dict(type='AudioDecode', sample_rate=16000),
    dict(type='AudioFrameLogMel', n_mels=40, group=4),
    dict(type='SegmentTargets'),
    dict(type='PackAVInputs'),
]
# Every frame of the video; a clip shorter than one window repeats its last frame up to
# `test_window` frames (left out of the frame scores and segments).
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='WholeVideoSampleFrames', min_len=test_window),
    dict(type='DecordDecode'),
    dict(type='MouthCrop', box=mouth_box, size=mouth_size),
    dict(type='AudioDecode', sample_rate=16000),
    dict(type='AudioFrameLogMel', n_mels=40, group=4),
    dict(type='SegmentTargets'),
    dict(type='PackAVInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# Whole videos differ in length: one video per batch. tools/test.py evaluates the labeled val
# subset (Track 2 needs the segments); for a testA submission see configs/localization/README.md.
val_dataloader = dict(batch_size=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    dataset=dict(type='AVDeepfake1MDataset', subset='val', test_mode=True,
                 pipeline=test_pipeline))
val_evaluator = [dict(type='VideoMetric'), dict(type='LocalizationMetric')]
test_evaluator = val_evaluator
custom_hooks = []
