# Continue AVF-MAE++'s pre-training (CVPR 2025, base model) on AV-Deepfake1M++: the AV-MAE
# pre-trainer of HOLA Stage 1 (Sec. 3.1, dual masking, Eq. (5)-(7)) with AVF-MAE++'s modules:
# local-global video and audio encoders (LGBlock, dim 512, depth 10, 8 heads; regions of
# 2 x 5 x 10 video and 4 x 4 fbank tokens), its fusion encoder (2 gated layers with iterative
# refinement) and hierarchical decoders (dim 384, depth 4, 6 heads, skips from blocks 3, 6, 9),
# at AVF-MAE++'s input: 16 frames at 160 px, fbank 256 x 128.
# Every weight (encoders, fusion, decoders, projections, mask tokens) starts from the converted
# AVF-MAE++ base pre-training checkpoint named by `load_from` (docs/pretrained_weights.md):
#   python tools/model_converters/avfmae2holaframe.py <checkpoint>.pth \
#       checkpoints/avfmae-base_pretrain_holaframe.pth \
#       --config configs/avmae/avmae_avfmae-base_8xb32-20e_avdf1mpp.py
# then one command:
#   tools/dist_train.sh configs/avmae/avmae_avfmae-base_8xb32-20e_avdf1mpp.py 8
# Another file: --cfg-options load_from=PATH. The encoders, fusion encoder and decoders of the
# result fine-tune with configs/hola/hola_avfmae-base_8xb8-30e_avdf1mpp.py
# (--cfg-options pretrained=<consolidated checkpoint>, see configs/avmae/README.md).
# AVF-MAE++'s objective: encoder masks tube 0.9 (10 of 100 patches per frame, 5 per region
# chunk) and random 0.8125 (24 of 128 fbank patches, 3 per region), decoder masks running cell
# 0.5 / random 0.5, the loss averaged over the decoded tokens, frame-difference video targets
# and the hierarchical contrastive loss with weight 0.0025. Data: every train clip of
# AV-Deepfake1M++ (real and fake; labels are not used). Budget where AVF-MAE++ and the paper are
# silent (our choice for a continuation): 20 epochs, 2 warm-up epochs, lr 1.2e-4 x batch / 256
# falling to 1e-6; 8 GPUs x 32 clips, DeepSpeed ZeRO-2, bf16.
_base_ = [
    '../_base_/datasets/avdf1mpp_pretrain.py',
    '../_base_/schedules/avmae-150e.py',
    '../_base_/strategies/zero2.py',
    '../_base_/default_runtime.py',
]
video_mean = [123.675, 116.28, 103.53]  # ImageNet, 0-255 scale (AVF-MAE++ / HiCMAE)
video_std = [58.395, 57.12, 57.375]

model = dict(
    type='AVMAEPretrainer',
    data_preprocessor=dict(type='AVDataPreprocessor', mean=video_mean, std=video_std),
    video_encoder=dict(
        type='AVFMAEVideoEncoder', arch='base', img_size=160, patch_size=16, num_frames=16,
        tubelet_size=2, region_size=(2, 5, 10)),
    audio_encoder=dict(
        type='AVFMAEAudioEncoder', arch='base', input_type='fbank', spec_size=(256, 128),
        patch_size=16, region_size=(4, 4)),
    fusion_encoder=dict(type='AVFMAEFusionEncoder', embed_dim=512, depth=2, num_heads=8),
    video_decoder=dict(type='AVMAEDecoder', embed_dim=384, depth=4, num_heads=6),
    audio_decoder=dict(type='AVMAEDecoder', embed_dim=384, depth=4, num_heads=6),
    video_masker=dict(type='TubeMasker', mask_ratio=0.9),
    audio_masker=dict(type='RandomMasker', mask_ratio=0.8125),
    video_decoder_masker=dict(type='RunningCellMasker', mask_ratio=0.5),
    audio_decoder_masker=dict(type='RandomMasker', mask_ratio=0.5),
    skip_indices=(3, 6, 9),
    loss_reconstruction=dict(type='MaskedReconstructionLoss', normalizer='count'),
    loss_contrastive=dict(type='HierarchicalContrastiveLoss', temperature=0.07,
                          loss_weight=0.0025),
    video_target=dict(normalize=True, frame_diff=True, mean=video_mean, std=video_std),
    audio_target=dict(normalize=True),
)
load_from = 'checkpoints/avfmae-base_pretrain_holaframe.pth'

# AV-Deepfake1M++'s train clips (docs/data.md), face-agnostic: short side to 160, random crop.
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    dataset=dict(data_root='data/AV-Deepfake1M-PlusPlus', list_file=None,
                 pattern='train/**/*.mp4', subset='train'),
)

max_epochs = 20
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=2,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 2, eta_min=1e-6, by_epoch=True, begin=2,
         end=max_epochs, convert_to_iter_based=True),
]
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'region_tokens': dict(decay_mult=0.0)}))
strategy = dict(bf16=dict(enabled=True))

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3, save_last=True),
)
log_processor = dict(by_epoch=True)
