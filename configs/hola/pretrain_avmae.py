# HOLA Stage 1, AV-MAE pre-training with audio-visual dual masking at base size: the command
#   tools/dist_train.sh configs/hola/pretrain_avmae.py 8
# runs configs/avmae/avmae_vit-base_8xb32-150e_talking-faces.py (see configs/avmae/README.md).
_base_ = ['../avmae/avmae_vit-base_8xb32-150e_talking-faces.py']
