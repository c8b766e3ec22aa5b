"""A tiny HOLA detector on the synthetic data: its config, and a checkpoint of random weights.

The model is the full HOLA detector (nano encoders, neck, ICI, LGCF, refiner, ``ClsHead``) at
4 frames of 32 x 32 pixels and 32 channels: small enough that the inference API, int8
quantization, ``tools/test.py`` and ``tools/infer.py`` run on it in seconds on a CPU.
"""

import os.path as osp
from typing import List, Tuple

import torch
from mmengine.config import Config
from mmengine.logging import MessageHub

#: Frames per clip, frame side in pixels, fusion width.
T, SIZE, DIM = 4, 32, 32

#: Largest allowed |fake probability (int8) - fake probability (fp32)| of the tiny detector on
#: the same clip. Dynamic int8 rounds each weight row to 8 bits and each linear input to 7 bits
#: (fbgemm's reduce_range), a 1-3% relative error per layer output (3.2% measured on a random
#: 512-2048-512 MLP). Through the whole detector that gave at most 0.0027 on 36 synthetic clips
#: (random attention biases); 0.0048 on the random-weight base model and 0.0059 on the nano
#: config of benchmarks/bench_inference_latency.py. 0.01 leaves a ~4x margin for other CPUs
#: (AVX-512 kernels round differently) while staying below the fp32 spread of the scores over
#: these clips (~0.02-0.03): dropping the attention biases of the int8 model, for instance,
#: moves the scores by up to 0.0125.
INT8_SCORE_TOL = 0.01


def tiny_pipeline(test_mode: bool = True) -> List[dict]:
    """The test pipeline: ``T`` uniformly sampled frames at ``SIZE`` px and MFCC segments."""
    return [
        dict(type='DecordInit'),
        dict(type='UniformSampleFrames', num_frames=T, test_mode=test_mode),
        dict(type='DecordDecode'),
        dict(type='VideoResize', short_side=SIZE),
        dict(type='VideoCenterCrop', crop_size=SIZE),
        dict(type='AudioDecode', sample_rate=16000, normalize='peak'),
        dict(type='AudioMFCCSegments', n_mfcc=32),
        dict(type='PackAVInputs'),
    ]


def tiny_model() -> dict:
    """The model config: a HOLA detector with nano encoders and ``DIM``-wide fusion."""
    return dict(
        type='HOLADetector',
        video_encoder=dict(type='VideoViTEncoder', arch='nano', img_size=SIZE, num_frames=T),
        audio_encoder=dict(type='AudioViTEncoder', arch='nano', input_type='mfcc',
                           num_segments=T),
        neck=dict(type='TemporalAlignmentNeck', in_channels_video=64, in_channels_audio=64,
                  out_channels=DIM, in_length_video=(T // 2) * 4, in_length_audio=T,
                  out_length=8),
        interaction=dict(type='IterativeCrossModalInteraction', dim=DIM, num_heads=4),
        fusion=dict(type='LocalGlobalContextualFusion', dim=DIM, num_layers=1, num_heads=4),
        refiner=dict(type='PyramidRefiner', dim=DIM),
        head=dict(type='ClsHead', in_channels=DIM),
        data_preprocessor=dict(type='AVDataPreprocessor', mean=[127.5] * 3, std=[64.0] * 3))


def tiny_config(data_root: str, subset: str = 'testA') -> Config:
    """A test config of the tiny model with ``subset`` of ``data_root`` as test set.

    Args:
        data_root (str): AV-Deepfake1M++-layout dataset folder.
        subset (str): ``'train'``/``'val'`` (labeled, scored by ``VideoMetric``) or
            ``'testA'``/``'testB'`` (unlabeled). Defaults to ``'testA'``.
    """
    if subset in ('train', 'val'):
        dataset = dict(type='AVDeepfake1MDataset', data_root=data_root, subset=subset,
                       test_mode=True, pipeline=tiny_pipeline())
    else:
        dataset = dict(type='AVDeepfake1MTestDataset', data_root=data_root, subset=subset,
                       pipeline=tiny_pipeline())
    return Config(dict(
        default_scope='holaframe',
        model=tiny_model(),
        test_dataloader=dict(batch_size=2, num_workers=0,
                             sampler=dict(type='DefaultSampler', shuffle=False),
                             dataset=dataset),
        test_evaluator=[dict(type='VideoMetric')],
        test_cfg=dict(),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        log_level='WARNING',
    ))


def write_tiny_detector(work_dir: str, data_root: str,
                        subset: str = 'testA') -> Tuple[str, str]:
    """Write the config file and an MMEngine-style checkpoint (message hub included).

    The weights are the random initialisation under seed 0.

    Args:
        work_dir (str): Existing folder for ``tiny_hola.py`` and ``tiny_hola.pth``.
        data_root (str): Dataset folder of the test set (see :func:`tiny_config`).
        subset (str): Test subset. Defaults to ``'testA'``.

    Returns:
        tuple[str, str]: Paths of the config file and the checkpoint.
    """
    from holaframe.engine.runner.train_state import message_hub_to_plain
    from holaframe.registry import MODELS
    from holaframe.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    cfg = tiny_config(data_root, subset)
    cfg_path = osp.join(work_dir, 'tiny_hola.py')
    cfg.dump(cfg_path)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    hub = MessageHub(name=f'tiny_{osp.basename(work_dir)}')
    hub.update_scalar('train/loss', 0.5)
    ckpt_path = osp.join(work_dir, 'tiny_hola.pth')
    # The message hub as holaframe's training checkpoints keep it: plain numbers.
    torch.save(dict(meta=dict(epoch=1), state_dict=model.state_dict(),
                    message_hub=message_hub_to_plain(hub.state_dict())), ckpt_path)
    return cfg_path, ckpt_path
