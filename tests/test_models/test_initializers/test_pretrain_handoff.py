"""Hand-off: a HOLA detector whose config names an AV-MAE checkpoint (written by the MMEngine
Runner) starts from exactly the pre-trained encoder weights, positions mapped to its grid."""

import copy
import glob
import os.path as osp
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from holaframe.engine.runner import build_runner
from holaframe.registry import MODELS
from holaframe.utils import register_all_modules

REPO = Path(__file__).resolve().parents[3]
PRETRAIN_CFG = REPO / 'configs' / 'avmae' / 'avmae_vit-nano_1xb4-20e_synthetic.py'
FINETUNE_CFG = REPO / 'configs' / 'hola' / 'hola_vit-nano_1xb8-10min_synthetic.py'


@pytest.fixture(scope='module')
def pretrain_checkpoint(synthetic_avdf_root, tmp_path_factory):
    """One epoch of one iteration of the tiny AV-MAE config, saved by the Runner."""
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(PRETRAIN_CFG))
    cfg.work_dir = str(tmp_path_factory.mktemp('avmae_handoff'))
    cfg.train_dataloader.dataset.data_root = synthetic_avdf_root
    cfg.train_dataloader.dataset.indices = 2
    cfg.train_dataloader.batch_size = 2
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.train_cfg.max_epochs = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.log_level = 'WARNING'
    runner = build_runner(cfg)  # as tools/train.py: checkpoints hold plain data only
    runner.train()
    ckpts = glob.glob(osp.join(cfg.work_dir, 'epoch_1.pth'))
    assert ckpts, 'the Runner wrote no checkpoint'
    state = {k: v.detach().clone() for k, v in runner.model.state_dict().items()}
    return ckpts[0], state


def _detector_cfg(checkpoint: str) -> dict:
    from holaframe.engine.runner import load_config
    # The pre-trainer's fusion encoder has 2 layers (HiCMAE layout).
    cfg = load_config(str(FINETUNE_CFG), dict(pretrained=checkpoint,
                                               **{'model.fusion_encoder.depth': 2}))
    return copy.deepcopy(cfg.model)


@pytest.mark.slow
def test_detector_starts_from_pretrained_encoders(pretrain_checkpoint):
    checkpoint, pretrained = pretrain_checkpoint
    register_all_modules(init_default_scope=True)
    torch.manual_seed(123)
    detector = MODELS.build(_detector_cfg(checkpoint))
    fresh = {k: v.clone() for k, v in detector.state_dict().items()}
    # The Runner checkpoint (meta, message hub as plain numbers) is read with
    # torch.load(weights_only=True).
    detector.init_weights()
    # The pre-training grid (64 px: 4 x 4 patches) travels with the weights; the detector's
    # 112 px grid (7 x 7) gets the mapped positions.
    assert detector.video_encoder.pos_grid.tolist() == [8, 4, 4]
    assert detector.video_encoder.grid_size == (8, 7, 7)
    loaded = detector.state_dict()
    compared = 0
    for name in ('video_encoder', 'audio_encoder', 'fusion_encoder'):
        for key, value in loaded.items():
            if not key.startswith(name + '.'):
                continue
            if key.startswith('audio_encoder.patch_embed.'):
                continue  # the fine-tuning audio encoder embeds MFCC segments, not fbank patches
            src = pretrained[key]
            assert torch.equal(value, src), f'{key} differs from the pre-trained weight'
            compared += 1
        blocks = [k for k in loaded if k.startswith(f'{name}.blocks.')]
        assert blocks and all(torch.equal(loaded[k], pretrained[k]) for k in blocks)
    assert compared > 100
    # Loading really changed the weights (not a coincidence of equal initialisations).
    key = 'video_encoder.blocks.0.attn.qkv.weight'
    assert not torch.equal(fresh[key], loaded[key])
    # Parts the pre-trainer does not have keep their own initialisation.
    assert not any(k.startswith(('video_decoder', 'audio_decoder')) for k in loaded)


def test_experiment_pair_transfers_every_encoder_and_fusion_weight():
    """The nano AV-MAE (128 px, 1 fusion layer) has exactly the nano detector's encoder and
    fusion tensors, except the audio patch embedding (fbank vs MFCC)."""
    register_all_modules(init_default_scope=False)
    pre = MODELS.build(Config.fromfile(
        str(REPO / 'configs' / 'avmae' / 'avmae_vit-nano-128px_1xb8-30e_synthetic.py')).model
    ).state_dict()
    ft_cfg = Config.fromfile(str(FINETUNE_CFG))
    for part in ('video_encoder', 'audio_encoder', 'fusion_encoder'):
        init = ft_cfg.model[part].init_cfg
        assert (init.type, init.prefix, init.variable) == ('PretrainedPart', part + '.',
                                                           'pretrained')
        assert init.checkpoint == ft_cfg.pretrained
    assert ft_cfg.pretrained.endswith('avmae_vit-nano-128px_1xb8-30e_synthetic/epoch_30.pth')
    det = MODELS.build(ft_cfg.model).state_dict()
    skipped = []
    for part in ('video_encoder', 'audio_encoder', 'fusion_encoder'):
        det_keys = {k for k in det if k.startswith(part + '.')}
        pre_keys = {k for k in pre if k.startswith(part + '.')}
        assert det_keys, part
        for key in det_keys:
            if key.startswith('audio_encoder.patch_embed.'):
                skipped.append(key)
                continue
            assert key in pre_keys, f'{key} is not pre-trained'
            if not key.endswith('pos_grid'):  # the encoder maps the grid itself
                assert pre[key].shape == det[key].shape, key
        assert not pre_keys - det_keys - {k for k in pre_keys if 'patch_embed' in k}, part
    assert skipped, 'the MFCC embedding should be the only part left at its own init'
