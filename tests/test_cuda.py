"""GPU checks: the base models train and predict on CUDA. Skipped where there is no GPU.

CI has no GPU; run them on a machine with one (``python -m pytest tests/test_cuda.py``). Every
check compares CUDA against the same code on CPU or checks for finite results.
"""

import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from holaframe.registry import MODELS
from holaframe.utils import register_all_modules

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')


def _build(config):
    register_all_modules()
    init_default_scope('holaframe')
    cfg = Config.fromfile(str(REPO / config))
    return MODELS.build(copy.deepcopy(cfg.model)).cuda()


def test_hola_base_trains_and_predicts_on_cuda():
    torch.manual_seed(0)
    model = _build('configs/hola/hola_vit-base_8xb8-30e_avdf1mpp.py')
    model.train()
    video = torch.randint(0, 255, (2, 3, 16, 224, 224), dtype=torch.uint8)
    audio = torch.randn(2, 16, 32)
    from holaframe.structures import AVDataSample
    samples = [AVDataSample(metainfo=dict(has_audio=h)).set_gt_label(y)
               for h, y in ((True, 1), (False, 0))]
    data = model.data_preprocessor(
        dict(inputs=[dict(video=v, audio=a) for v, a in zip(video, audio)],
             data_samples=samples), training=True)
    assert data['inputs']['video'].is_cuda
    losses = model(**data, mode='loss')
    loss = sum(v for k, v in losses.items() if k.startswith('loss'))
    assert torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    model.eval()
    with torch.no_grad():
        preds = model(**data, mode='predict')
    scores = torch.stack([p.pred_score for p in preds])
    assert ((scores >= 0) & (scores <= 1)).all()


def test_avmae_base_dual_masking_step_on_cuda():
    torch.manual_seed(0)
    model = _build('configs/hola/pretrain_avmae.py')
    model.train()
    inputs = dict(video=torch.randn(2, 3, 16, 160, 160, device='cuda'),
                  audio=torch.randn(2, 1, 256, 128, device='cuda'))
    losses = model(inputs, mode='loss')
    total = losses['loss_video'] + losses['loss_audio']
    assert torch.isfinite(total)
    total.backward()


def test_encoders_match_cpu_on_cuda():
    torch.manual_seed(0)
    from holaframe.models.encoders import AudioViTEncoder, VideoViTEncoder
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    for enc, x in ((VideoViTEncoder(arch='tiny', img_size=64), torch.randn(2, 3, 16, 64, 64)),
                   (AudioViTEncoder(arch='tiny'), torch.randn(2, 1, 256, 128))):
        enc.eval()
        with torch.no_grad():
            ref = enc(x)
            out = enc.cuda()(x.cuda()).cpu()
        assert (out - ref).abs().max() < 1e-4
