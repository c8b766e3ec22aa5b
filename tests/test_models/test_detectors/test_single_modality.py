"""SingleModalityClassifier and HOLASingleModalityDetector: the forward(mode) contract of
HOLADetector on one modality."""

import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from holaframe.registry import MODELS
from holaframe.structures import AVDataSample
from holaframe.utils import register_all_modules

REPO = Path(__file__).resolve().parents[3]
ABLATIONS = {m: REPO / 'configs' / 'baselines' /
             f'hola-{m}-only_vit-nano_scratch_1xb8-10min_synthetic.py' for m in ('audio', 'video')}


def _inputs(batch: int = 2) -> dict:
    return dict(video=torch.randn(batch, 3, 16, 112, 112), audio=torch.randn(batch, 16, 32),
                has_audio=torch.ones(batch, dtype=torch.bool))


def _samples(batch: int = 2) -> list:
    out = []
    for i in range(batch):
        s = AVDataSample()
        s.set_gt_label(i % 2)
        out.append(s)
    return out


def _classifier(modality: str = 'audio'):
    register_all_modules()
    backbone = (dict(type='ECAPATDNN', in_channels=32, channels=32, mfa_channels=48,
                     attention_channels=8, embed_dim=16) if modality == 'audio' else
                dict(type='I3D', width_mult=0.0625))
    return MODELS.build(dict(type='SingleModalityClassifier', modality=modality,
                             backbone=backbone, head=dict(type='ClsHead')))


@pytest.mark.parametrize('modality', ['audio', 'video'])
def test_classifier_modes(modality):
    model = _classifier(modality)
    assert model.head.fc.in_features == model.backbone.out_channels  # filled in from backbone
    logits = model(_inputs(), mode='tensor')
    assert logits.shape == (2, 2)
    losses = model(_inputs(), _samples(), mode='loss')
    assert set(losses) == {'loss_cls'} and torch.isfinite(losses['loss_cls'])
    model.eval()
    preds = model(_inputs(), _samples(), mode='predict')
    for p in preds:
        assert 0 <= float(p.pred_score) <= 1 and int(p.pred_label) in (0, 1)


def test_classifier_reads_only_its_modality():
    model = _classifier('audio').eval()
    a = _inputs()
    b = dict(a, video=torch.randn_like(a['video']))
    assert torch.equal(model(a, mode='tensor'), model(b, mode='tensor'))


def test_classifier_errors_name_the_file():
    with pytest.raises(ValueError, match='single_modality_classifier.py: modality'):
        MODELS.build(dict(type='SingleModalityClassifier', modality='text',
                          backbone=dict(type='I3D'), head=dict(type='ClsHead')))
    model = _classifier('audio')
    with pytest.raises(KeyError, match='single_modality_classifier.py'):
        model(dict(video=torch.zeros(1, 3, 1, 8, 8)), mode='tensor')
    with pytest.raises(ValueError, match='single_modality_classifier.py: mode="loss"'):
        model(_inputs(), None, mode='loss')


@pytest.mark.parametrize('modality', ['audio', 'video'])
def test_hola_single_modality_keeps_one_branch(modality):
    register_all_modules()
    cfg = Config.fromfile(str(ABLATIONS[modality]))
    model = MODELS.build(copy.deepcopy(cfg.model))
    other = 'video' if modality == 'audio' else 'audio'
    assert getattr(model, f'{other}_encoder') is None
    assert getattr(model.neck, other) is None
    assert model.fusion_encoder is None and model.interaction is None
    full = MODELS.build(copy.deepcopy(Config.fromfile(
        str(REPO / 'configs' / 'hola' / 'hola_vit-nano_scratch_1xb8-10min_synthetic.py')).model))
    kept = {n for n, _ in model.named_parameters()}
    assert kept < {n for n, _ in full.named_parameters()}  # a strict subset of HOLA's names
    losses = model(_inputs(), _samples(), mode='loss')
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    a = _inputs()
    b = dict(a, **{other: torch.randn_like(a[other])})
    assert torch.equal(model(a, mode='tensor'), model(b, mode='tensor'))
    assert model(a, mode='tensor').shape == (2, 2)


def test_hola_single_modality_needs_a_neck():
    with pytest.raises(ValueError, match='hola_single_modality_detector.py'):
        MODELS.build(dict(type='HOLASingleModalityDetector', modality='audio',
                          video_encoder=None, audio_encoder=None, head=dict(type='ClsHead',
                                                                            in_channels=8),
                          neck=None))
