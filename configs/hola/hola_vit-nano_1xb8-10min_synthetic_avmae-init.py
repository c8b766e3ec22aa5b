# The paper-faithful nano HOLA (clip labels only), fine-tuned from the nano AV-MAE pre-trained on
# the synthetic clips instead of from scratch (issue 6, item 6; results in docs/pretraining.md).
# Same model, data, schedule and seed as hola_vit-nano_1xb8-10min_synthetic.py; only the
# initialisation of the video/audio encoders and the fusion encoder differs (the audio
# `patch_embed` embeds MFCC segments here and fbank patches in pre-training, so it keeps its own
# initialisation). First run
#   python tools/train.py configs/hola/pretrain_avmae-nano-128px_1xb8-30e_synthetic.py
_base_ = ['./hola_vit-nano_1xb8-10min_synthetic.py']

pretrained = 'work_dirs/pretrain_avmae-nano-128px_1xb8-30e_synthetic/epoch_30.pth'
model = dict(
    video_encoder=dict(
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='video_encoder.')),
    audio_encoder=dict(
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='audio_encoder.')),
    fusion_encoder=dict(
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='fusion_encoder.')),
)
