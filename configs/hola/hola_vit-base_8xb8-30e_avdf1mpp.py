# The paper's model (Sec. 3.2, 4.1.1) on AV-Deepfake1M++, fine-tuned from the AV-MAE pre-trained
# encoders: HiCMAE-B encoders, 16 frames at 224, MFCC audio, ICI + LGCF + pyramid refiner,
# cross-entropy; AdamW (weight decay 0.02), lr 1.5e-4, cosine schedule, 30 epochs, batch 8 per
# GPU x 8 GPUs = 64. Video-level labels only.
# Table 3 (each row adds one component to the one before; same head, schedule and budget):
#   hola-baseline_...  -> hola-ici_...  -> hola-ici-lgcf_...  -> this file (+ pyramid refiner)
#   -> hola-pseudo-5r_vit-base_8xb8-55e_avdf1mpp.py, whose control (the same 55 epochs without
#      pseudo-labels) is hola-nopseudo_vit-base_8xb8-55e_avdf1mpp.py.
# From random weights instead: hola_vit-base_scratch_8xb8-30e_avdf1mpp.py.
_base_ = [
    '../_base_/models/hola_vit-base.py',
    '../_base_/datasets/avdf1mpp_paper.py',
    '../_base_/schedules/adamw-cosine_30e.py',
    '../_base_/default_runtime.py',
]
# Pre-trained initialisation (Sec. 3.1 -> 3.2): the video encoder, audio encoder and fusion
# encoder start from the AV-MAE checkpoint named by `pretrained` (--cfg-options pretrained=PATH
# reaches every init_cfg below). Training stops at once, naming the two ways to get a checkpoint,
# when the file does not exist. The encoders map the positions the checkpoint learned on its
# pre-training grid onto this config's grid; the audio MFCC embedding is not transferable from an
# fbank pre-training and keeps its own initialisation.
pretrained = 'checkpoints/avmae_vit-base_8xb32-150e_talking-faces.pth'
model = dict(
    video_encoder=dict(init_cfg=dict(type='PretrainedPart', checkpoint=pretrained,
                                     prefix='video_encoder.', variable='pretrained')),
    audio_encoder=dict(init_cfg=dict(type='PretrainedPart', checkpoint=pretrained,
                                     prefix='audio_encoder.', variable='pretrained')),
    fusion_encoder=dict(init_cfg=dict(type='PretrainedPart', checkpoint=pretrained,
                                      prefix='fusion_encoder.', variable='pretrained')),
)
# Make the checkpoint with configs/hola/pretrain_avmae.py and
# tools/model_converters/zero2holaframe.py, or convert released weights (docs/pretraining.md).

train_dataloader = dict(batch_size=8)
val_evaluator = dict(type='VideoMetric')
test_evaluator = val_evaluator
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3, save_best='video/auc',
                    rule='greater'))
