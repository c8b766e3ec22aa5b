"""Continuing AVF-MAE++ pre-training: configs/avmae/avmae_avfmae-base_8xb32-20e_avdf1mpp.py,
shrunk to the tiny AVF-MAE++ model of tests/data/avfmae_tiny_golden.pt, loads every converted
weight (encoders, fusion, decoders, projections, mask tokens) and takes a training step."""

from pathlib import Path

import pytest
import torch

from holaframe.engine.runner import build_runner, load_config
from holaframe.registry import MODELS
from holaframe.testing.scripts import load_script
from holaframe.utils import register_all_modules

REPO = Path(__file__).resolve().parents[3]
FIXTURE = REPO / 'tests' / 'data' / 'avfmae_tiny_golden.pt'
AVMAE_CFG = REPO / 'configs' / 'avmae' / 'avmae_avfmae-base_8xb32-20e_avdf1mpp.py'


def _converter():
    return load_script(REPO / 'tools' / 'model_converters' / 'avfmae2holaframe.py')


def _options(golden):
    """The config at the fixture's widths and depths; the config's own 160 px / 256 x 128 input
    and region sizes (the fixture's 32 px / 128 x 64 grids are mapped)."""
    kw = golden['constructor']['pretrain']['kwargs']
    size = dict(embed_dim=kw['encoder_embed_dim'], depth=kw['encoder_depth'],
                num_heads=kw['encoder_num_heads'])
    decoder = dict(embed_dim=kw['decoder_embed_dim'], depth=kw['decoder_depth'],
                   num_heads=kw['decoder_num_heads'])
    return {
        **{f'model.{enc}.{k}': v for enc in ('video_encoder', 'audio_encoder')
           for k, v in size.items()},
        **{f'model.{dec}.{k}': v for dec in ('video_decoder', 'audio_decoder')
           for k, v in decoder.items()},
        'model.fusion_encoder.embed_dim': kw['encoder_embed_dim'],
        'model.fusion_encoder.num_heads': kw['encoder_fusion_num_heads'],
        'model.skip_indices': tuple(range(kw['decoder_depth'] - 1)),
    }


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    golden = torch.load(FIXTURE, map_location='cpu', weights_only=True)
    folder = tmp_path_factory.mktemp('avfmae_avmae')
    torch.save(golden['pretrain_state_dict'], folder / 'checkpoint-0.pth')
    dst = folder / 'avfmae-tiny_pretrain_holaframe.pth'
    meta = _converter().convert_checkpoint(str(folder / 'checkpoint-0.pth'), str(dst),
                                           config=str(AVMAE_CFG), cfg_options=_options(golden))
    assert {'video_decoder', 'audio_decoder', 'video_mask_token',
            'audio_encoder_to_decoder'} <= set(meta['config_parts'])
    return str(dst), golden


def test_every_pretrainer_tensor_comes_from_the_checkpoint(converted):
    checkpoint, golden = converted
    register_all_modules(init_default_scope=True)
    cfg = load_config(str(AVMAE_CFG), _options(golden))
    model = MODELS.build(cfg.model)
    state = torch.load(checkpoint, weights_only=True)['state_dict']
    result = model.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert model.video_encoder.pos_grid.tolist() == [8, 2, 2]  # mapped onto (8, 10, 10)
    assert model.video_encoder.regions.region_grid.tolist() == [4, 2, 1]
    assert torch.equal(model.video_mask_token, state['video_mask_token'])


def test_one_training_step_from_load_from(converted, synthetic_avdf_root, tmp_path):
    """The config's `load_from` route, with the plain Runner (DeepSpeed needs GPUs here)."""
    checkpoint, golden = converted
    register_all_modules(init_default_scope=False)
    options = dict(_options(golden), load_from=checkpoint)
    cfg = load_config(str(AVMAE_CFG), options, work_dir=str(tmp_path / 'work'))
    cfg.runner_type = 'Runner'
    cfg.pop('strategy')
    loader = cfg.train_dataloader
    loader.update(batch_size=2, num_workers=0, persistent_workers=False)
    loader.dataset.update(data_root=synthetic_avdf_root, indices=2)  # the config's pattern
    cfg.train_cfg.max_epochs = 1
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.log_level = 'WARNING'
    runner = build_runner(cfg)
    runner.train()
    assert runner.iter == 1
    model = runner.model
    assert model.video_encoder.pos_grid.tolist() == [8, 2, 2]  # came with the checkpoint
    state = torch.load(checkpoint, weights_only=True)['state_dict']
    step = (model.video_mask_token - state['video_mask_token']).abs().max().item()
    assert 0 < step < 1e-2  # loaded, then one small AdamW step
