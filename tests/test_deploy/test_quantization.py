"""Opt-in int8 dynamic quantization (holaframe.deploy.quantization, init_detector(quantize=))."""

import glob
import os.path as osp
import warnings

import pytest
import torch
import torch.nn as nn
from torch.ao.nn.quantized.dynamic import Linear as DynamicQuantizedLinear

import holaframe.deploy.quantization as hq
from holaframe.apis import inference_detector, init_detector, quantize_dynamic_int8
from holaframe.models.layers import Attention, Block, CrossAttention, CSBlock
from holaframe.testing import INT8_SCORE_TOL, write_tiny_detector


def _randomize_biases(module: nn.Module, seed: int = 0) -> None:
    """HiCMAE initialises q_bias / v_bias to zero: make them matter."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith(('q_bias', 'v_bias')):
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory, synthetic_avdf_root):
    """Tiny detector config and a checkpoint with non-zero attention biases."""
    work = str(tmp_path_factory.mktemp('tiny_int8'))
    cfg_path, ckpt_path = write_tiny_detector(work, synthetic_avdf_root)
    state = torch.load(ckpt_path, weights_only=False)  # our own file: trusted
    g = torch.Generator().manual_seed(1)
    for key, value in state['state_dict'].items():
        if key.endswith(('q_bias', 'v_bias')):
            state['state_dict'][key] = torch.randn(value.shape, generator=g) * 0.5
    torch.save(state, ckpt_path)
    return cfg_path, ckpt_path, synthetic_avdf_root


@pytest.mark.parametrize('qkv_bias', [True, False])
def test_linear_attention_is_exact(qkv_bias):
    torch.manual_seed(0)
    attn = Attention(24, num_heads=3, qkv_bias=qkv_bias, head_dim=5).eval()
    _randomize_biases(attn)
    new = hq.LinearAttention(attn).eval()
    assert isinstance(new.qkv, nn.Linear) and (new.qkv.bias is not None) == qkv_bias
    x = torch.randn(2, 7, 24)
    mask = torch.rand(2, 1, 1, 7) > 0.3
    mask[..., 0] = True
    with torch.no_grad():
        for m in (None, mask):
            torch.testing.assert_close(new(x, attn_mask=m), attn(x, attn_mask=m),
                                       rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('qkv_bias', [True, False])
def test_linear_cross_attention_is_exact(qkv_bias):
    torch.manual_seed(0)
    attn = CrossAttention(16, context_dim=12, num_heads=4, qkv_bias=qkv_bias).eval()
    _randomize_biases(attn)
    new = hq.LinearCrossAttention(attn).eval()
    x, context = torch.randn(2, 5, 16), torch.randn(2, 9, 12)
    mask = torch.rand(2, 1, 5, 9) > 0.3
    mask[..., 0] = True
    with torch.no_grad():
        for m in (None, mask):
            torch.testing.assert_close(new(x, context, attn_mask=m),
                                       attn(x, context, attn_mask=m), rtol=1e-6, atol=1e-6)


def test_quantized_blocks_stay_close_and_warn_nothing():
    torch.manual_seed(0)
    model = nn.ModuleDict(dict(block=Block(64, 4), cs=CSBlock(64, 32, num_heads=4))).eval()
    _randomize_biases(model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        qmodel = quantize_dynamic_int8(model)
    assert not [w for w in caught if 'deprecat' in str(w.message).lower()], \
        [str(w.message)[:100] for w in caught]
    assert not any(isinstance(m, (Attention, CrossAttention)) for m in qmodel.modules())
    assert sum(isinstance(m, DynamicQuantizedLinear) for m in qmodel.modules()) == \
        sum(isinstance(m, nn.Linear) for m in model.modules())
    # The input is left alone (a copy is quantized).
    assert any(isinstance(m, Attention) for m in model.modules())
    x, context = torch.randn(1, 50, 64), torch.randn(1, 20, 32)
    with torch.no_grad():
        for ref, out in ((model['block'](x), qmodel['block'](x)),
                         (model['cs'](x, context), qmodel['cs'](x, context))):
            # Per-layer relative error of dynamic int8 is 1-3% (see INT8_SCORE_TOL).
            rel = ((out - ref).norm() / ref.norm()).item()
            assert 0 < rel < 0.05, rel


def test_attention_subclass_keeps_fp32_projections():
    class MyAttention(Attention):  # its forward might read qkv.weight differently
        pass

    torch.manual_seed(0)
    model = nn.ModuleDict(dict(attn=MyAttention(16, num_heads=2), mlp=nn.Linear(16, 16))).eval()
    _randomize_biases(model)
    qmodel = quantize_dynamic_int8(model)
    assert type(qmodel['attn']) is MyAttention
    assert type(qmodel['attn'].qkv) is nn.Linear and type(qmodel['attn'].proj) is nn.Linear
    assert isinstance(qmodel['mlp'], DynamicQuantizedLinear)
    x = torch.randn(1, 6, 16)
    with torch.no_grad():
        torch.testing.assert_close(qmodel['attn'](x), model['attn'](x))


def test_init_detector_int8_replaces_linears(tiny):
    cfg_path, ckpt_path, _ = tiny
    fp32 = init_detector(cfg_path, ckpt_path)
    model = init_detector(cfg_path, ckpt_path, quantize='int8')
    assert hq.is_int8_quantized(model) and not hq.is_int8_quantized(fp32)
    assert not model.training and model.cfg.model == fp32.cfg.model
    num_linear = sum(type(m) is nn.Linear for m in fp32.modules())
    assert num_linear > 20
    assert sum(isinstance(m, DynamicQuantizedLinear) for m in model.modules()) == num_linear
    assert not any(type(m) is nn.Linear for m in model.modules())
    assert not any(isinstance(m, (Attention, CrossAttention)) for m in model.modules())
    # Unquantized parts keep their fp32 weights, the data pre-processor included.
    state = model.state_dict()
    for key in ('video_encoder.patch_embed.proj.weight', 'video_encoder.blocks.0.norm1.weight'):
        assert state[key].dtype == torch.float32 and torch.equal(state[key],
                                                                 fp32.state_dict()[key])
    assert type(model.data_preprocessor) is type(fp32.data_preprocessor)
    for (k1, v1), (k2, v2) in zip(model.data_preprocessor.state_dict().items(),
                                  fp32.data_preprocessor.state_dict().items()):
        assert k1 == k2 and torch.equal(v1, v2)


def test_int8_scores_close_to_fp32(tiny):
    cfg_path, ckpt_path, root = tiny
    files = sorted(glob.glob(osp.join(root, '**', '*.mp4'), recursive=True))
    assert len(files) > 20
    fp32 = init_detector(cfg_path, ckpt_path)
    int8 = init_detector(cfg_path, ckpt_path, quantize='int8')
    ref = inference_detector(fp32, files)
    out = inference_detector(int8, files)
    assert all(e['error'] is None for e in ref + out)
    diffs = [abs(a['score'] - b['score']) for a, b in zip(ref, out)]
    assert max(diffs) <= INT8_SCORE_TOL, max(diffs)
    assert max(diffs) > 0  # the int8 model does compute differently
    assert [e['has_audio'] for e in out] == [e['has_audio'] for e in ref]
    # Quantizing a copy of a model that has scored videos: same scores, original untouched.
    copy = quantize_dynamic_int8(fp32)
    assert fp32._holaframe_scorer is not None and not hasattr(copy, '_holaframe_scorer')
    assert not hq.is_int8_quantized(fp32)
    again = inference_detector(copy, files[:3])
    assert [e['score'] for e in again] == pytest.approx([e['score'] for e in out[:3]], abs=1e-6)


def test_int8_refuses_training_mode(tiny):
    cfg_path, ckpt_path, root = tiny
    model = init_detector(cfg_path, ckpt_path, quantize='int8')
    good = sorted(glob.glob(osp.join(root, 'testA', '**', '*.mp4'), recursive=True))[0]
    model.train()
    with pytest.raises(RuntimeError, match='inference only'):
        model(torch.zeros(1), mode='tensor')
    # inference_detector puts the model back in eval mode.
    assert inference_detector(model, good)['error'] is None


def test_int8_refuses_non_cpu(tiny):
    cfg_path, ckpt_path, _ = tiny
    with pytest.raises(ValueError, match='CPU only'):
        init_detector(cfg_path, ckpt_path, device='cuda', quantize='int8')
    with pytest.raises(ValueError, match='quantize must be one of'):
        init_detector(cfg_path, ckpt_path, quantize='int4')
    meta = nn.Sequential(nn.Linear(4, 4)).to('meta')
    with pytest.raises(ValueError, match=r"CPU only.*\['meta'\]"):
        quantize_dynamic_int8(meta)


def test_int8_needs_a_quantized_engine(monkeypatch):
    monkeypatch.setattr(hq, '_supported_engines', lambda: ['none'])
    with pytest.raises(RuntimeError, match='quantized engines'):
        quantize_dynamic_int8(nn.Sequential(nn.Linear(4, 4)))
