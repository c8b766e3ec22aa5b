# Data-parallel training with PyTorch DDP on the plain MMEngine Runner (every rank holds the full
# model, gradients and optimizer states). Launch: tools/dist_train.sh CONFIG NPROC.
# The backend (NCCL with CUDA, gloo without) is chosen by tools/train.py; on CPU-only machines
# the process group must be started with holaframe.engine.runner.init_dist_env before the Runner
# is built (MMEngine's own init_dist calls torch.cuda.set_device).
runner_type = 'Runner'
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel',
    # None = the module's own device (cuda:LOCAL_RANK on GPUs, CPU otherwise); MMEngine's default
    # [LOCAL_RANK] is rejected by DDP for a CPU module.
    device_ids=None,
    broadcast_buffers=False,
    find_unused_parameters=False,
)
