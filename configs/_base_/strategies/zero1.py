# DeepSpeed ZeRO stage 1: optimizer states are partitioned over ranks.
# Runs on MMEngine's FlexibleRunner with holaframe's HolaDeepSpeedStrategy: NCCL on GPUs, gloo on
# CPU-only machines; the micro batch size is the train dataloader's batch_size. The experiment's
# `optim_wrapper` (type OptimWrapper) becomes DeepSpeedOptimWrapper automatically
# (`clip_grad.max_norm` -> gradient_clipping, `accumulative_counts` ->
# gradient_accumulation_steps), so the _base_ schedules need no change.
# Mixed precision on GPUs, in the experiment config: strategy = dict(bf16=dict(enabled=True))
# (falls back to fp32 with a warning where unsupported, e.g. on CPU). See docs/scaling.md.
runner_type = 'FlexibleRunner'
strategy = dict(
    # Scoped name: FlexibleRunner builds the strategy before it sets the default scope.
    type='holaframe.HolaDeepSpeedStrategy',
    zero_optimization=dict(
        stage=1,
        allgather_partitions=True,
        reduce_scatter=True,
        overlap_comm=False,
        contiguous_gradients=True,
    ),
    fp16=dict(enabled=False),
    bf16=dict(enabled=False),
)
