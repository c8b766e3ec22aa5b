"""Tests of the example plugin, run by holaframe's suite."""

from pathlib import Path

import pytest
import torch
from agreement_fusion_plugin import AgreementGatedFusion  # on PYTHONPATH (pytest's pythonpath)
from mmengine.registry import init_default_scope

from holaframe.registry import MODELS
from holaframe.utils import list_components

PROJECT = Path(__file__).resolve().parents[1]


def test_registered_into_holaframe_and_listed():
    init_default_scope('holaframe')
    block = MODELS.build(dict(type='AgreementGatedFusion', dim=8))
    assert isinstance(block, AgreementGatedFusion)
    names = [c['name'] for c in list_components('fusion')['fusion']]
    assert 'AgreementGatedFusion' in names


def test_shapes_and_gate():
    torch.manual_seed(0)
    block = AgreementGatedFusion(dim=8)
    f_v, f_a = torch.randn(2, 5, 8), torch.randn(2, 5, 8)
    out = block(f_v, f_a)
    assert out.shape == (2, 10, 8)
    g = torch.sigmoid(block.gate(f_v * f_a))
    torch.testing.assert_close(out[:, :5], f_v * g)
    torch.testing.assert_close(out[:, 5:], f_a * g)
    out.sum().backward()
    assert block.gate.weight.grad is not None


def test_misaligned_inputs_raise():
    with pytest.raises(ValueError, match='aligned'):
        AgreementGatedFusion(dim=8)(torch.zeros(1, 4, 8), torch.zeros(1, 5, 8))


def test_config_swaps_the_plugin_into_a_holaframe_detector():
    from mmengine.config import Config

    cfg = Config.fromfile(str(PROJECT / 'configs' /
                              'hola-agreement_vit-nano_1xb8-10min_synthetic.py'))
    assert cfg.custom_imports['imports'] == ['agreement_fusion_plugin']
    init_default_scope('holaframe')
    model = MODELS.build(cfg.model)
    assert isinstance(model.fusion, AgreementGatedFusion)
    model.eval()
    video = torch.randn(2, 3, 16, 112, 112)
    audio = torch.randn(2, 16, 32)
    with torch.no_grad():
        logits = model(dict(video=video, audio=audio, has_audio=torch.ones(2, dtype=torch.bool)),
                       mode='tensor')
    assert logits.shape == (2, 2)
    assert torch.isfinite(logits).all()
