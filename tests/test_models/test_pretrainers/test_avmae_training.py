"""A tiny AV-MAE pre-training run on synthetic clips cuts its loss by at least 30%."""

from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper

from holaframe.registry import DATASETS, MODELS
from holaframe.utils import register_all_modules

REPO = Path(__file__).resolve().parents[3]
CFG = REPO / 'configs' / 'avmae' / 'avmae_vit-nano_1xb4-20e_synthetic.py'
SIZE = 32  # frames shrunk from the config's 64 px to keep the test short (grid 8 x 2 x 2)
STEPS, LR, WARMUP = 100, 5e-3, 5


@pytest.mark.slow
def test_tiny_pretraining_cuts_loss_by_30_percent(synthetic_avdf_root):
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(str(CFG))
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = synthetic_avdf_root
    for t in ds_cfg.pipeline:
        if t['type'] == 'VideoResize':
            t['short_side'] = SIZE
        if t['type'] == 'VideoRandomCrop':
            t['crop_size'] = SIZE
    cfg.model.video_encoder.img_size = SIZE
    torch.manual_seed(0)
    dataset = DATASETS.build(ds_cfg)
    batch = pseudo_collate([dataset[0], dataset[1]])  # two clips, decoded once
    model = MODELS.build(cfg.model)
    model.init_weights()
    cfg.optim_wrapper.optimizer.lr = LR
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)

    def held_out_loss() -> float:
        """Loss of the batch under one fixed draw of encoder and decoder masks."""
        state = torch.get_rng_state()
        torch.manual_seed(123)
        model.eval()
        with torch.no_grad():
            data = model.data_preprocessor(batch)
            losses = model(**data, mode='loss')
        model.train()
        torch.set_rng_state(state)
        assert set(losses) == {'loss_video', 'loss_audio'}
        return sum(v.item() for v in losses.values())

    before = held_out_loss()
    for step in range(STEPS):
        for group in optim_wrapper.optimizer.param_groups:
            group['lr'] = LR * min(1.0, (step + 1) / WARMUP)
        log_vars = model.train_step(batch, optim_wrapper)  # new random masks every step
        assert torch.isfinite(log_vars['loss'])
    after = held_out_loss()
    assert after <= 0.7 * before, f'loss {before:.3f} -> {after:.3f}: less than a 30% cut'
