"""Tests of the HiCMAE building blocks in holaframe.models.layers."""

import math
import warnings

import pytest
import torch
import torch.nn.functional as F

from holaframe.models.layers import (
    Attention,
    AudioPatchEmbed,
    Block,
    CrossAttention,
    CSBlock,
    DropPath,
    MFCCTokenEmbed,
    Mlp,
    VideoPatchEmbed,
    get_sinusoid_encoding_table,
)
from holaframe.registry import MODELS


def _randomise(module, seed=0):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    return module


def _manual_attention(q, k, v, num_heads, scale):
    B, N, C = q.shape
    M = k.shape[1]
    q = q.reshape(B, N, num_heads, -1).transpose(1, 2) * scale
    k = k.reshape(B, M, num_heads, -1).transpose(1, 2)
    v = v.reshape(B, M, num_heads, -1).transpose(1, 2)
    attn = (q @ k.transpose(-2, -1)).softmax(-1)
    return (attn @ v).transpose(1, 2).reshape(B, N, -1)


def test_sinusoid_table_interleaved_float64():
    n, d = 50, 12
    table = get_sinusoid_encoding_table(n, d)
    assert table.shape == (1, n, d) and table.dtype == torch.float32
    p = torch.arange(n, dtype=torch.float64)[:, None]
    j = torch.arange(d, dtype=torch.float64)
    exponent = 2 * torch.div(j, 2, rounding_mode='floor') / d
    angle = p / torch.pow(torch.tensor(10000., dtype=torch.float64), exponent)
    expected = torch.where(j % 2 == 0, torch.sin(angle), torch.cos(angle)).float()
    torch.testing.assert_close(table[0], expected, rtol=0, atol=1e-7)
    # Interleaved: channel 0 = sin(p), channel 1 = cos(p) (not two halves).
    torch.testing.assert_close(table[0, :, 0], torch.sin(p[:, 0]).float())
    torch.testing.assert_close(table[0, :, 1], torch.cos(p[:, 0]).float())
    # Computed in float64: at large positions a float32 computation differs.
    big = get_sinusoid_encoding_table(2000, 64)[0]
    p32 = torch.arange(2000, dtype=torch.float32)[:, None]
    j32 = torch.arange(64)
    a32 = p32 / torch.pow(torch.tensor(10000.), 2 * (j32 // 2) / 64)
    t32 = torch.where(j32 % 2 == 0, torch.sin(a32), torch.cos(a32))
    assert (big - t32).abs().max() > 1e-6


def test_attention_layout_and_bias_slots():
    attn = _randomise(Attention(16, num_heads=4)).eval()
    assert set(attn.state_dict()) == {'qkv.weight', 'q_bias', 'v_bias', 'proj.weight',
                                      'proj.bias'}
    assert attn.qkv.weight.shape == (48, 16) and attn.qkv.bias is None
    x = torch.randn(2, 5, 16)
    w = attn.qkv.weight
    q = x @ w[:16].t() + attn.q_bias
    k = x @ w[16:32].t()  # the key has no bias
    v = x @ w[32:].t() + attn.v_bias
    ref = attn.proj(_manual_attention(q, k, v, 4, (16 // 4)**-0.5))
    torch.testing.assert_close(attn(x), ref, rtol=1e-5, atol=1e-6)
    no_bias = Attention(16, num_heads=4, qkv_bias=False)
    assert 'q_bias' not in no_bias.state_dict()


def test_attention_uses_sdpa_and_mask(monkeypatch):
    attn = _randomise(Attention(8, num_heads=2)).eval()
    x = torch.randn(1, 6, 8)
    calls = []
    real = F.scaled_dot_product_attention

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(F, 'scaled_dot_product_attention', spy)
    keep = torch.tensor([[True] * 4 + [False] * 2])
    out = attn(x, attn_mask=keep[:, None, None, :])
    assert calls, 'attention must go through scaled_dot_product_attention'
    # Keys 4, 5 are masked: the first four outputs equal attention over the first four tokens.
    torch.testing.assert_close(out[:, :4], attn(x[:, :4]), rtol=1e-5, atol=1e-6)


def test_cross_attention_layout():
    ca = _randomise(CrossAttention(16, context_dim=12, num_heads=2)).eval()
    assert ca.kv.weight.shape == (32, 12) and ca.q.weight.shape == (16, 16)
    assert set(ca.state_dict()) == {'q.weight', 'kv.weight', 'q_bias', 'v_bias', 'proj.weight',
                                    'proj.bias'}
    x, ctx = torch.randn(2, 3, 16), torch.randn(2, 7, 12)
    q = x @ ca.q.weight.t() + ca.q_bias
    k = ctx @ ca.kv.weight[:16].t()
    v = ctx @ ca.kv.weight[16:].t() + ca.v_bias
    ref = ca.proj(_manual_attention(q, k, v, 2, 8**-0.5))
    torch.testing.assert_close(ca(x, ctx), ref, rtol=1e-5, atol=1e-6)


def test_mlp_uses_exact_gelu():
    mlp = _randomise(Mlp(4, 16)).eval()
    x = torch.randn(3, 4) * 3
    ref = mlp.fc2(F.gelu(mlp.fc1(x)))
    torch.testing.assert_close(mlp(x), ref)
    tanh = mlp.fc2(F.gelu(mlp.fc1(x), approximate='tanh'))
    assert (mlp(x) - tanh).abs().max() > 1e-5


def test_block_prenorm_order_and_eps():
    blk = _randomise(Block(16, 4)).eval()
    assert blk.norm1.eps == 1e-6 and blk.norm2.eps == 1e-6
    x = torch.randn(2, 5, 16)
    h = x + blk.attn(blk.norm1(x))
    ref = h + blk.mlp(blk.norm2(h))
    torch.testing.assert_close(blk(x), ref)
    assert 'gamma_1' not in blk.state_dict()
    scaled = Block(16, 4, init_values=0.1)
    assert torch.allclose(scaled.gamma_1, torch.full((16, ), 0.1))


def test_csblock_order():
    blk = _randomise(CSBlock(16, 8, num_heads=4)).eval()
    assert blk.cross_norm2.normalized_shape == (8, )
    x, ctx = torch.randn(2, 5, 16), torch.randn(2, 3, 8)
    h = x + blk.cross_attn(blk.cross_norm1(x), context=blk.cross_norm2(ctx))
    h = h + blk.attn(blk.norm1(h))
    ref = h + blk.mlp(blk.norm2(h))
    torch.testing.assert_close(blk(x, ctx), ref)
    # The paper's text order (self-attention, then cross-attention): same parameters.
    paper = CSBlock(16, 8, num_heads=4, order='self_first').eval()
    paper.load_state_dict(blk.state_dict())
    h = x + blk.attn(blk.norm1(x))
    h = h + blk.cross_attn(blk.cross_norm1(h), context=blk.cross_norm2(ctx))
    torch.testing.assert_close(paper(x, ctx), h + blk.mlp(blk.norm2(h)))
    assert not torch.allclose(paper(x, ctx), ref)
    with pytest.raises(ValueError, match='order'):
        CSBlock(16, 8, num_heads=4, order='both')
    fusion = MODELS.build(dict(type='HiCMAEFusionEncoder', embed_dim=16, depth=1, num_heads=4,
                               block_order='self_first'))
    assert fusion.blocks[0].order == fusion.blocks_audio[0].order == 'self_first'


def test_drop_path():
    dp = DropPath(0.5)
    x = torch.ones(1000, 3)
    dp.eval()
    assert torch.equal(dp(x), x)
    dp.train()
    torch.manual_seed(0)
    out = dp(x)
    rows = out[:, 0]
    assert set(rows.unique().tolist()) <= {0.0, 2.0}
    assert 0.4 < (rows == 0).float().mean() < 0.6


def test_video_patch_embed_token_order():
    pe = VideoPatchEmbed(img_size=(32, 48), patch_size=16, in_channels=3, embed_dim=4,
                         num_frames=4, tubelet_size=2)
    assert pe.grid_size == (2, 2, 3) and pe.num_patches == 12
    with torch.no_grad():
        pe.proj.weight.fill_(1.)
        pe.proj.bias.zero_()
    x = torch.zeros(1, 3, 4, 32, 48)
    x[0, 0, 3, 17, 40] = 1.  # frame 3 -> t=1, row 1, col 2
    tokens = pe(x)
    assert tokens.shape == (1, 12, 4)
    assert tokens[0, :, 0].nonzero().flatten().tolist() == [1 * 6 + 1 * 3 + 2]
    with pytest.raises(ValueError, match='video_patch_embed'):
        pe(torch.zeros(1, 3, 6, 32, 48))


def test_audio_patch_embed_time_major():
    pe = AudioPatchEmbed(spec_size=(64, 32), patch_size=16, embed_dim=4)
    assert pe.grid_size == (4, 2)
    with torch.no_grad():
        pe.proj.weight.fill_(1.)
        pe.proj.bias.zero_()
    x = torch.zeros(1, 1, 64, 32)
    x[0, 0, 50, 20] = 1.  # time patch 3, freq patch 1
    tokens = pe(x)
    assert tokens[0, :, 0].nonzero().flatten().tolist() == [3 * 2 + 1]
    assert pe(x[:, 0]).shape == (1, 8, 4)  # (B, time, freq) accepted too


@pytest.mark.parametrize('kind', ['video', 'audio', 'mfcc'])
def test_patch_embed_keep_equals_full_embedding_indexed(kind):
    """Embedding only the kept tokens (pre-training) = embedding all, then indexing; grads too."""
    torch.manual_seed(0)
    if kind == 'video':
        pe = VideoPatchEmbed(img_size=(32, 48), patch_size=16, embed_dim=8, num_frames=4,
                             tubelet_size=2)
        x = torch.randn(3, 3, 4, 32, 48)
    elif kind == 'audio':
        pe = AudioPatchEmbed(spec_size=(64, 32), patch_size=16, embed_dim=8)
        x = torch.randn(3, 1, 64, 32)
    else:
        pe = MFCCTokenEmbed(num_segments=8, num_coeffs=32, embed_dim=8)
        x = torch.randn(3, 8, 32)
    n = pe.num_patches
    keep = torch.zeros(3, n, dtype=torch.bool)
    for row in range(3):  # 3 kept tokens per row, different positions
        keep[row, torch.randperm(n)[:3]] = True
    picked = pe(x, keep=keep)
    full = pe(x)[keep].reshape(3, 3, 8)
    torch.testing.assert_close(picked, full, rtol=1e-5, atol=1e-5)
    g1 = torch.autograd.grad(picked.square().sum(), pe.proj.weight)[0]
    g2 = torch.autograd.grad(pe(x)[keep].square().sum(), pe.proj.weight)[0]
    torch.testing.assert_close(g1, g2, rtol=1e-4, atol=1e-5)


def test_mfcc_token_embed_and_fbank_weights():
    pe = MFCCTokenEmbed(num_segments=16, num_coeffs=32, embed_dim=8)
    x = torch.randn(2, 16, 32)
    out = pe(x)
    assert out.shape == (2, 16, 8)
    torch.testing.assert_close(out[:, 5], pe.proj(x[:, 5]))
    with pytest.raises(ValueError, match='mfcc_token_embed'):
        pe(torch.randn(2, 10, 32))
    fbank_sd = {'proj.weight': torch.randn(8, 1, 16, 16), 'proj.bias': torch.randn(8)}
    before = pe.proj.weight.clone()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter('always')
        result = pe.load_state_dict(fbank_sd, strict=False)
    assert any('fbank' in str(w.message) for w in rec)
    assert set(result.missing_keys) == {'proj.weight', 'proj.bias'}
    assert torch.equal(pe.proj.weight, before)


def test_attention_scale_override():
    attn = _randomise(Attention(8, num_heads=2, qk_scale=0.25)).eval()
    assert math.isclose(attn.scale, 0.25)
    base = _randomise(Attention(8, num_heads=2)).eval()
    x = torch.randn(1, 4, 8)
    assert (attn(x) - base(x)).abs().max() > 1e-4
