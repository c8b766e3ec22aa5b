# HOLA Stage 1: AV-MAE pre-training with audio-visual dual masking, base size, on an unlabeled
# list of talking-face videos; 8 GPUs x 32 clips = total batch 256 (lr 1.2e-4).
#   tools/dist_train.sh configs/hola/pretrain_avmae.py 8      (this config, under its short name)
# Data: data/pretrain_videos/<videos> and data/pretrain_videos/train_list.txt (one relative
# path per line); 16 frames at stride 4, face crops resized to 160x160, HiCMAE fbank 256 x 128.
# DeepSpeed ZeRO-2 on MMEngine's FlexibleRunner (NCCL on GPUs, gloo on a CPU-only machine); swap
# the strategy line for '../_base_/strategies/ddp.py' to use plain DDP. A ZeRO checkpoint is a
# directory: consolidate the last one into the file the fine-tuning configs expect,
#   python tools/model_converters/zero2holaframe.py work_dirs/pretrain_avmae/epoch_150.pth \
#       checkpoints/avmae_vit-base_8xb32-150e_talking-faces.pth
# (the encoders' `pos_grid` in it records the 160 px token grid; fine-tuning at 224 px maps it).
_base_ = [
    '../_base_/models/avmae_vit-base.py',
    '../_base_/datasets/avdf1mpp_pretrain.py',
    '../_base_/schedules/avmae-150e.py',
    '../_base_/strategies/zero2.py',
    '../_base_/default_runtime.py',
]

# Mixed precision (HiCMAE trained under CUDA autocast): bf16 through DeepSpeed on GPUs that
# support it; it falls back to fp32 with a warning elsewhere (e.g. on CPU).
strategy = dict(bf16=dict(enabled=True))

# 32 clips per GPU x 8 GPUs = 256; videos listed in data/pretrain_videos/train_list.txt.
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    dataset=dict(list_file='train_list.txt'),
)

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3, save_last=True),
)
log_processor = dict(by_epoch=True)
