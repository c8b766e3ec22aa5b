"""AVF-MAE++ video and audio encoders: sizes, token sets, masking, grids and pre-training use."""

import pytest
import torch

from holaframe.models.encoders import AVFMAE_ARCH_SETTINGS, AVFMAEAudioEncoder, AVFMAEVideoEncoder
from holaframe.models.layers import map_sinusoid_table
from holaframe.registry import MODELS
from holaframe.utils import register_all_modules

TINY = dict(embed_dim=16, depth=2, num_heads=2, mlp_ratio=4.)


def _video(**kw):
    kw.setdefault('arch', TINY)
    kw.setdefault('img_size', 32)
    kw.setdefault('region_size', (2, 1, 2))
    return AVFMAEVideoEncoder(**kw).eval()


def _tube_mask(batch, grid, keep_per_frame, seed=0):
    gen = torch.Generator().manual_seed(seed)
    t, h, w = grid
    masks = []
    for _ in range(batch):
        frame = torch.ones(h * w, dtype=torch.bool)
        frame[torch.randperm(h * w, generator=gen)[:keep_per_frame]] = False
        masks.append(frame.repeat(t))
    return torch.stack(masks)


@pytest.mark.parametrize('arch,dim,depth,heads', [('base', 512, 10, 8), ('large', 640, 12, 10),
                                                  ('huge', 768, 15, 12)])
def test_released_sizes(arch, dim, depth, heads):
    assert AVFMAE_ARCH_SETTINGS[arch] == dict(embed_dim=dim, depth=depth, num_heads=heads,
                                              mlp_ratio=4.)
    enc = AVFMAEVideoEncoder(arch=arch, depth=1)  # one block is enough to check the widths
    assert (enc.embed_dim, enc.num_heads, enc.grid_size) == (dim, heads, (8, 10, 10))
    assert enc.regions.region_tokens.shape == (8, dim)  # 4 x 2 x 1 regions at 160 px
    assert enc.blocks[0].mlp.fc1.out_features == 4 * dim


def test_token_sets_and_layer_outputs():
    enc = _video()
    x = torch.randn(2, 3, 16, 32, 32)
    local, layers = enc(x, out_indices='all')
    assert local.shape == (2, 32, 16) and len(layers) == 2 and torch.equal(layers[-1], local)
    region_enc = _video(out_tokens='region')
    region_enc.load_state_dict(enc.state_dict())
    regions = region_enc(x)
    assert regions.shape == (2, 8, 16)
    with pytest.raises(ValueError, match='out_tokens'):
        _video(out_tokens='all')


def test_masked_forward_keeps_token_order():
    """A mask that keeps every token gives the unmasked result when each region spans the frame
    width (then AVF-MAE++'s chunking of visible tokens is the spatial partition)."""
    enc = _video()
    x = torch.randn(2, 3, 16, 32, 32)
    full = enc(x)
    torch.testing.assert_close(enc(x, torch.zeros(2, 32, dtype=torch.bool)), full)
    mask = _tube_mask(2, enc.grid_size, keep_per_frame=2)
    vis, layers = enc(x, mask, out_indices=(0, 1))
    assert vis.shape == (2, 16, 16) and [t.shape for t in layers] == [(2, 16, 16)] * 2
    with pytest.raises(ValueError, match='do not split into the 8 regions'):
        enc(x, _tube_mask(2, enc.grid_size, keep_per_frame=1))
    with pytest.raises(ValueError, match='same, non-zero'):
        uneven = mask.clone()
        uneven[0, mask[0].logical_not().nonzero()[0]] = True
        enc(x, uneven)


def test_positions_are_mapped_from_the_pretraining_grid():
    pre = _video(img_size=32)  # grid (8, 2, 2)
    fine = _video(img_size=64, region_size=(2, 2, 4))  # grid (8, 4, 4), the same regions
    fine.load_state_dict(pre.state_dict())
    assert fine.pos_grid.tolist() == [8, 2, 2]
    torch.testing.assert_close(fine.pos_embed, map_sinusoid_table((8, 2, 2), (8, 4, 4), 16))
    assert torch.equal(fine.regions.region_tokens, pre.regions.region_tokens)


def test_audio_encoder_fbank_and_mfcc():
    fbank = AVFMAEAudioEncoder(arch=TINY, spec_size=(128, 64)).eval()
    assert fbank.regions.region_size == (4, 4) and fbank.regions.region_grid_size == (2, 1)
    assert fbank(torch.randn(2, 1, 128, 64)).shape == (2, 32, 16)
    mfcc = AVFMAEAudioEncoder(arch=TINY, input_type='mfcc', num_segments=16).eval()
    assert mfcc.regions.region_grid_size == (8, )
    with pytest.warns(UserWarning, match='fbank patch embedding'):
        mfcc.load_state_dict(fbank.state_dict(), strict=False)
    assert mfcc(torch.randn(2, 16, 32)).shape == (2, 16, 16)


def test_pretrainer_trains_with_lgblock_encoders():
    """AVMAEPretrainer with AVF-MAE++ encoders and fusion: a loss step with AVF-MAE++'s mask
    ratios (10 % of video patches per frame, 24 of 128 fbank patches)."""
    register_all_modules(init_default_scope=False)
    model = MODELS.build(dict(
        type='AVMAEPretrainer',
        video_encoder=dict(type='AVFMAEVideoEncoder', arch=TINY, img_size=160,
                           region_size=(2, 5, 10), with_cp=True),
        audio_encoder=dict(type='AVFMAEAudioEncoder', arch=TINY, region_size=(4, 4)),
        fusion_encoder=dict(type='AVFMAEFusionEncoder', embed_dim=16, depth=2, num_heads=2),
        video_decoder=dict(type='AVMAEDecoder', embed_dim=8, depth=2, num_heads=2),
        audio_decoder=dict(type='AVMAEDecoder', embed_dim=8, depth=2, num_heads=2),
        audio_masker=dict(type='RandomMasker', mask_ratio=0.8125),
        video_decoder_masker=dict(type='RunningCellMasker', mask_ratio=0.5),
        audio_decoder_masker=dict(type='RandomMasker', mask_ratio=0.5),
        skip_indices=(0, ),
        loss_contrastive=dict(type='HierarchicalContrastiveLoss', loss_weight=0.0025)))
    model.init_weights()
    model.train()
    inputs = dict(video=torch.randn(2, 3, 16, 160, 160), audio=torch.randn(2, 1, 256, 128))
    losses = model(inputs, mode='loss')
    assert set(losses) == {'loss_video', 'loss_audio', 'loss_contrastive'}
    total = sum(losses.values())
    total.backward()
    assert model.video_encoder.regions.region_tokens.grad.abs().sum() > 0
    assert model.fusion_encoder.refinement.conv_video[0].weight.grad is not None
