"""A tiny localisation detector (whole-video windows, LocalizationHead) for tests and benchmarks.

The dense demo model of :mod:`holaframe.testing.tiny_dense_detector` plus a
``LocalizationHead`` and whole-video prediction (``test_window`` over every decoded frame), with
random weights: its segments are meaningless but have the shapes, timing and cost of a trained
model's, so ``tools/infer.py --localize`` and the benchmarks run in seconds.
"""

import os.path as osp
from typing import List, Tuple

import torch
from mmengine.config import Config

from .tiny_dense_detector import DIM, tiny_dense_model

#: Frames of one test window (2.56 s at 25 fps) and the stride between windows.
WINDOW = 64
STRIDE = 32


def tiny_localization_pipeline() -> List[dict]:
    """Every frame of the video (padded to one window), 48 px mouth crop, frame log-mel."""
    return [
        dict(type='DecordInit'),
        dict(type='WholeVideoSampleFrames', min_len=WINDOW),
        dict(type='DecordDecode'),
        dict(type='MouthCrop', box=(0.25, 0.45, 0.75, 0.95), size=48),
        dict(type='AudioDecode', sample_rate=16000),
        dict(type='AudioFrameLogMel', n_mels=40, group=4),
        dict(type='PackAVInputs'),
    ]


def tiny_localization_model(localize: bool = True) -> dict:
    """The model config; ``localize=False`` drops the localisation head (detection only, still
    over the whole video)."""
    model = tiny_dense_model()
    model['test_window'] = dict(clip_len=WINDOW, stride=STRIDE)
    if localize:
        model['loc_head'] = dict(type='LocalizationHead', in_channels=DIM, hidden_channels=DIM,
                                 dilations=(1, 2, 4, 8), sync_offsets=4)
        model['post_processor'] = dict(type='SegmentPostProcessor', nms='soft',
                                       max_per_video=100)
    return model


def write_tiny_localization_detector(work_dir: str, localize: bool = True) -> Tuple[str, str]:
    """Write ``tiny_loc.py`` and ``tiny_loc.pth`` (random weights, seed 0) to ``work_dir``.

    Args:
        work_dir (str): Output folder.
        localize (bool): With the localisation head.

    Returns:
        tuple[str, str]: Paths of the config file and the checkpoint.
    """
    from holaframe.registry import MODELS
    from holaframe.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    cfg = Config(dict(default_scope='holaframe', model=tiny_localization_model(localize),
                      test_pipeline=tiny_localization_pipeline()))
    name = 'tiny_loc' if localize else 'tiny_loc_detect'
    cfg_path = osp.join(work_dir, f'{name}.py')
    cfg.dump(cfg_path)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ckpt_path = osp.join(work_dir, f'{name}.pth')
    torch.save(dict(meta=dict(epoch=0), state_dict=model.state_dict()), ckpt_path)
    return cfg_path, ckpt_path
