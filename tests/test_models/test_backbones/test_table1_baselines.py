"""The nine Table 1 baselines: built from their configs, logits and gradients on a batch from
their own pipelines, parameter counts at standard size against the original papers."""

import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from holaframe.registry import MODELS
from holaframe.utils import register_all_modules

REPO = Path(__file__).resolve().parents[3]
BASELINES = REPO / 'configs' / 'baselines'
TINY = {
    'ECAPATDNN': 'ecapa-tdnn_tiny_1xb8-10e_synthetic.py',
    'Res2Net': 'res2net_tiny_1xb8-10e_synthetic.py',
    'CAMPPlus': 'campplus_tiny_1xb8-10e_synthetic.py',
    'SEResNet': 'se-resnet_tiny_1xb8-10e_synthetic.py',
    'CNN14': 'panns-cnn14_tiny_1xb8-10e_synthetic.py',
    'I3D': 'i3d_tiny_1xb8-10e_synthetic.py',
    'C3D': 'c3d_tiny_1xb8-10e_synthetic.py',
    'VideoSwinTransformer': 'video-swin_tiny_1xb8-10e_synthetic.py',
    'TimeSformer': 'timesformer_tiny_1xb8-10e_synthetic.py',
}
# Standard-size configs and the exact parameter count of each model as configured (two-class
# head included): a change of architecture shows up here.
STANDARD = {
    'ecapa-tdnn_c1024_8xb8-30e_avdf1mpp.py': 14_661_186,
    'res2net50-26w-4s_8xb8-30e_avdf1mpp.py': 23_647_946,
    'campplus_8xb8-30e_avdf1mpp.py': 6_848_930,
    'se-resnet50_8xb8-30e_avdf1mpp.py': 26_036_850,
    'panns-cnn14_8xb8-30e_avdf1mpp.py': 79_677_890,
    'i3d_inception-v1_8xb8-30e_avdf1mpp.py': 12_289_314,
    'c3d_8xb8-30e_avdf1mpp.py': 78_003_970,
    'video-swin-t_8xb8-30e_avdf1mpp.py': 27_852_008,
    'timesformer-base_8xb8-30e_avdf1mpp.py': 121_248_002,
}
# The original paper's figure, in the paper's own setting (input planes, classifier classes):
# (backbone kwargs, classes of the paper's last layer or 0 when the figure is the embedding
# network, figure).
PAPER = {
    'ECAPATDNN': (dict(in_channels=80, channels=1024), 0, 14.7e6),  # Table 1, C = 1024
    'Res2Net': (dict(in_channels=3), 1000, 25.70e6),  # Table 2, ImageNet
    'CAMPPlus': (dict(in_channels=80), 0, 7.18e6),  # Table 1
    'SEResNet': (dict(in_channels=3), 1000, 28.09e6),  # Table 2, ImageNet
    'CNN14': (dict(in_channels=64), 527, 80.753e6),  # Table II, AudioSet
    'I3D': (dict(), 400, 12.5e6),  # Table 1: two-stream 25 M, one stream half of it
    'VideoSwinTransformer': (dict(), 400, 28.2e6),  # Table 1, Swin-T
    'TimeSformer': (dict(num_frames=8), 400, 121.4e6),  # Table 1, divided space-time
}


def _load(name: str) -> Config:
    register_all_modules()
    return Config.fromfile(str(BASELINES / name))


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('backbone,name', sorted(TINY.items()), ids=sorted(TINY))
def test_tiny_baseline_logits_and_gradients(backbone, name, synthetic_avdf_root):
    """Built from its config, (B, 2) logits on two clips of its own pipeline, finite loss and
    a gradient in every parameter."""
    from holaframe.testing.dummy_batch import build_dummy_batch
    cfg = _load(name)
    assert cfg.model.backbone.type == backbone
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(cfg.model)).train()
    batch = build_dummy_batch(cfg, synthetic_avdf_root, batch_size=2)
    data = model.data_preprocessor(batch, training=True)
    for i, sample in enumerate(data['data_samples']):  # one real, one fake clip
        sample.set_gt_label(i % 2)
    logits = model(data['inputs'], mode='tensor')
    assert logits.shape == (2, 2) and torch.isfinite(logits).all()
    losses = model(**data, mode='loss')
    loss = sum(losses.values())
    assert torch.isfinite(loss)
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f'{name}: no gradient in {missing[:5]}'
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())
    # TimeSformer's temporal_fc starts at zero (reference init), so the temporal attention
    # before it gets a zero gradient on the first step; every other parameter gets a non-zero one
    zero = [n for n, p in model.named_parameters()
            if p.grad.abs().sum() == 0 and not ('.temporal_' in n and 'temporal_fc' not in n)]
    assert not zero, f'{name}: zero gradient in {zero[:5]}'


@pytest.mark.parametrize('name,count', sorted(STANDARD.items()), ids=sorted(STANDARD))
def test_standard_size_parameter_count_is_pinned(name, count):
    cfg = _load(name)
    model = MODELS.build(copy.deepcopy(cfg.model))
    assert _count(model) == count


@pytest.mark.parametrize('backbone', sorted(PAPER), ids=sorted(PAPER))
def test_parameter_count_matches_the_original_paper(backbone):
    """The backbone in the paper's setting (plus its last layer) is within 5% of the paper's
    figure (C3D's paper states none)."""
    kwargs, classes, figure = PAPER[backbone]
    model = MODELS.build(dict(type=backbone, **kwargs))
    total = _count(model)
    if classes:
        total += model.out_channels * classes + classes
    assert abs(total - figure) / figure < 0.05, (backbone, total, figure)


def test_c3d_fc6_follows_the_input_size():
    model = MODELS.build(dict(type='C3D', num_frames=16, img_size=112))
    assert model.fc[0].in_features == 512 * 1 * 4 * 4  # the paper's 8192
    with pytest.raises(ValueError, match='c3d.py'):
        model(torch.zeros(1, 3, 16, 96, 96))


def test_audio_backbones_name_a_wrong_input():
    model = MODELS.build(dict(type='ECAPATDNN', in_channels=40, channels=64, mfa_channels=96,
                              attention_channels=16, embed_dim=16))
    with pytest.raises(ValueError, match='ecapa_tdnn.py: expected 40 bins'):
        model(torch.zeros(2, 1, 50, 64))
    with pytest.raises(ValueError, match='ecapa_tdnn.py: audio must be'):
        model(torch.zeros(2, 3, 50, 40))


def test_video_swin_shifted_windows_mask_other_regions():
    """A shifted-window block's output at one token does not depend on a token that the cyclic
    shift brought into its window from the far side of the clip."""
    torch.manual_seed(0)
    model = MODELS.build(dict(type='VideoSwinTransformer', embed_dim=8, depths=(2,),
                              num_heads=(1,), window_size=(4, 4, 4), drop_path_rate=0.0)).eval()
    block = model.stages[0][1]  # the shifted one (shift 2)
    x = torch.randn(1, 8, 8, 8, 8, requires_grad=True)
    y = block(x)
    # after the cyclic shift the last window holds positions 6, 7 and (wrapped) 0, 1 of each
    # axis; token (7, 7, 7) attends to (6, 7, 7) but not to the wrapped (0, 0, 0)
    y[0, 7, 7, 7].sum().backward()
    assert x.grad[0, 0, 0, 0].abs().sum() < 1e-30  # masked with -100 before the softmax
    assert x.grad[0, 6, 7, 7].abs().sum() > 0


def test_timesformer_divided_attention_shapes():
    model = MODELS.build(dict(type='TimeSformer', img_size=32, patch_size=16, num_frames=3,
                              embed_dim=16, depth=1, num_heads=2)).eval()
    assert model(torch.randn(2, 3, 3, 32, 32)).shape == (2, 16)
    with pytest.raises(ValueError, match='timesformer.py'):
        model(torch.randn(2, 3, 4, 32, 32))
