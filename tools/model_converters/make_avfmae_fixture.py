#!/usr/bin/env python
"""Write the AVF-MAE++ golden fixture (tests/data/avfmae_tiny_golden.pt) from AVF-MAE++'s code.

The parity test (tests/test_models/test_encoders/test_avfmae_parity.py) converts the weights
stored here with tools/model_converters/avfmae2holaframe.py and requires holaframe's modules
to reproduce every stored output within 1e-5. This script builds AVF-MAE++'s own pre-training
and fine-tuning models at a tiny size with a fixed seed, perturbs every weight (so that a
swapped bias or norm cannot go unnoticed), runs them in eval mode and saves inputs, weights and
outputs. Nothing of AVF-MAE++ is copied into holaframe; its code is imported from a checkout.

Steps (the reference code is not vendored; fetch it into a temporary folder)::

    git clone https://github.com/XuecWu/AVF-MAE /tmp/avfmae
    git -C /tmp/avfmae checkout a31ebf8472ce1d1485c67f6d81c35321b44e3eb4
    pip install einops   # the reference code needs it; holaframe itself does not
    python tools/model_converters/make_avfmae_fixture.py /tmp/avfmae \\
        tests/data/avfmae_tiny_golden.pt

Use commit a31ebf8 (the first upload): the later reformatting of that repository dropped the
lines that define ``messenger_tokens`` and ``local_tokens`` in ``LGBlock.forward`` and
``norm3`` in the fusion block, so its newest modeling files cannot run; this script stops with
that message when it meets them. timm is only used there for ``drop_path``, ``to_2tuple``,
``trunc_normal_`` and ``register_model``; when timm cannot be imported, small equivalents are
registered in its place (``holaframe.testing.reference_code.ensure_timm``). Another size:
``--embed-dim 512 --num-heads 8 --depth 10 --img-size 160 --region-size 2,5,10 --spec-size
256,128 --audio-region-size 4,4 --video-mask-ratio 0.9 --audio-mask-ratio 0.8125`` (the
released base model; the file is then about 1 GB), and point ``HOLAFRAME_AVFMAE_FIXTURE`` at it
when running the parity test.
"""

import argparse
import math
import os
import os.path as osp
import sys
from functools import partial
from typing import Dict, List, Tuple

import numpy as np
import torch
from torch import nn

REFERENCE_REPO = 'github.com/XuecWu/AVF-MAE'
REFERENCE_COMMIT = 'a31ebf8472ce1d1485c67f6d81c35321b44e3eb4'

#: LGBlock options checked one block at a time (AVF-MAE++'s ``lg_*`` arguments). Its code runs
#: only third_attn_type='cross' (the 'self' branch leaves a variable of step 4 undefined).
LG_VARIANTS: Tuple[Dict[str, object], ...] = (
    dict(),
    dict(first_attn_type='cross'),
    dict(attn_param_sharing_first_third=True),
    dict(attn_param_sharing_all=True),
    dict(no_second=True),
    dict(first_attn_type='cross', attn_param_sharing_all=True, no_second=True),
)


def _ints(text: str) -> Tuple[int, ...]:
    return tuple(int(v) for v in text.split(','))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('reference', help='checkout of the AVF-MAE repository (see above)')
    parser.add_argument('out', help='output file, e.g. tests/data/avfmae_tiny_golden.pt')
    parser.add_argument('--embed-dim', type=int, default=16)
    parser.add_argument('--num-heads', type=int, default=2)
    parser.add_argument('--depth', type=int, default=2, help='blocks per modality encoder')
    parser.add_argument('--fusion-depth', type=int, default=2)
    parser.add_argument('--decoder-dim', type=int, default=8)
    parser.add_argument('--lg-dim', type=int, default=8, help='width of the single-LGBlock checks')
    parser.add_argument('--img-size', type=int, default=32)
    parser.add_argument('--region-size', type=_ints, default=(2, 1, 2), metavar='T,H,W')
    parser.add_argument('--spec-size', type=_ints, default=(128, 64), metavar='TIME,FREQ')
    parser.add_argument('--audio-region-size', type=_ints, default=(2, 2), metavar='T,F')
    parser.add_argument('--video-mask-ratio', type=float, default=0.5)
    parser.add_argument('--audio-mask-ratio', type=float, default=0.75)
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def _perturb(module: nn.Module, gen: torch.Generator) -> None:
    """Move every parameter and running statistic off its initial value."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            scale = 0.1 if p.ndim <= 1 or 'region_tokens' in name else 0.02
            p.add_(torch.randn(p.shape, generator=gen) * scale)
        for name, b in module.named_buffers():
            if name.endswith('running_mean'):
                b.copy_(torch.randn(b.shape, generator=gen) * 0.1)
            elif name.endswith('running_var'):
                b.copy_(1 + 0.2 * torch.rand(b.shape, generator=gen))


def _region_major(n_tokens: int, pattern: str, **sizes) -> torch.Tensor:
    """Ascending token index at each position of AVF-MAE++'s region-major token output."""
    from einops import rearrange
    index = torch.arange(n_tokens).reshape(1, n_tokens, 1)
    return rearrange(index, pattern, **sizes).flatten()


def _kwargs(args) -> Tuple[dict, dict]:
    common = dict(mlp_ratio=4., qkv_bias=True, qk_scale=None, drop_rate=0., attn_drop_rate=0.,
                  drop_path_rate=0., init_values=0., use_learnable_pos_emb=False,
                  attn_type='local_global', lg_region_size=list(args.region_size),
                  lg_region_size_audio=list(args.audio_region_size), lg_first_attn_type='self',
                  lg_third_attn_type='cross', lg_attn_param_sharing_first_third=False,
                  lg_attn_param_sharing_all=False, lg_no_second=False, lg_no_third=False)
    pretrain = dict(
        img_size=args.img_size, patch_size=16, encoder_in_chans=3, encoder_num_classes=0,
        encoder_embed_dim=args.embed_dim, encoder_depth=args.depth,
        encoder_num_heads=args.num_heads, decoder_num_classes=1536,
        decoder_embed_dim=args.decoder_dim, decoder_depth=args.depth,
        decoder_num_heads=args.num_heads, tubelet_size=2,
        img_size_audio=list(args.spec_size), patch_size_audio=16, encoder_in_chans_audio=1,
        encoder_embed_dim_audio=args.embed_dim, encoder_depth_audio=args.depth,
        encoder_num_heads_audio=args.num_heads, decoder_num_classes_audio=256,
        decoder_embed_dim_audio=args.decoder_dim, decoder_depth_audio=args.depth,
        decoder_num_heads_audio=args.num_heads, encoder_fusion_depth=args.fusion_depth,
        encoder_fusion_num_heads=args.num_heads, inter_contrastive_temperature=0.07,
        return_intermediate_features=list(range(args.depth - 1)), **common)
    finetune = dict(
        img_size=args.img_size, patch_size=16, in_chans=3, num_classes=3,
        embed_dim=args.embed_dim, depth=args.depth, num_heads=args.num_heads, init_scale=0.,
        all_frames=16, tubelet_size=2, keep_temporal_dim=False,
        img_size_audio=list(args.spec_size), patch_size_audio=16, in_chans_audio=1,
        embed_dim_audio=args.embed_dim, depth_audio=args.depth, num_heads_audio=args.num_heads,
        fusion_depth=args.fusion_depth, fusion_num_heads=args.num_heads,
        use_mean_pooling=False, head_activation_func=None, lg_classify_token_type='region',
        **common)
    return pretrain, finetune


def _masks(args, video_grid: Tuple[int, int, int], audio_grid: Tuple[int, int]):
    import masking_generator as mg
    np.random.seed(args.seed)
    vgen = mg.TubeMaskingGenerator(video_grid, args.video_mask_ratio)
    agen = mg.RandomMaskingGenerator2D(audio_grid, args.audio_mask_ratio)
    vmask = torch.from_numpy(np.stack([vgen() for _ in range(args.batch_size)])).bool()
    amask = torch.from_numpy(np.stack([agen() for _ in range(args.batch_size)])).bool()
    record = dict(video=dict(cls='TubeMaskingGenerator', args=[list(video_grid),
                                                              args.video_mask_ratio]),
                  audio=dict(cls='RandomMaskingGenerator2D', args=[list(audio_grid),
                                                                  args.audio_mask_ratio]))
    return vmask, amask, record


@torch.no_grad()
def _lg_variants(args, gen: torch.Generator) -> List[dict]:
    from modeling_finetune_av import LGBlock
    b, n, s, dim = 2, 3, 4, args.lg_dim
    out = []
    for options in LG_VARIANTS:
        kwargs = dict(dim=dim, num_heads=args.num_heads, mlp_ratio=4., qkv_bias=True,
                      init_values=0., **{k: v for k, v in options.items()})
        blk = LGBlock(norm_layer=partial(nn.LayerNorm, eps=1e-6), **kwargs).eval()
        _perturb(blk, gen)
        x = torch.randn(b * n, 1 + s, dim, generator=gen)
        y = blk(x.clone(), b)  # the reference writes into its input
        out.append(dict(kwargs=kwargs, norm_eps=1e-6, batch_size=b, state_dict=blk.state_dict(),
                        input=x, output=y))
    return out


@torch.no_grad()
def build_fixture(args) -> dict:
    from holaframe.testing.reference_code import ensure_timm
    sys.path.insert(0, osp.abspath(args.reference))
    ensure_timm()
    import modeling_finetune_av
    import modeling_pretrain_av
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    norm_layer = partial(nn.LayerNorm, eps=1e-6)
    pre_kw, ft_kw = _kwargs(args)
    try:
        lg_variants = _lg_variants(args, gen)
    except (NameError, UnboundLocalError, AttributeError) as exc:
        raise SystemExit(f'make_avfmae_fixture.py: the reference LGBlock does not run ({exc}); '
                         f'check out commit {REFERENCE_COMMIT} (see this file\'s docstring).'
                         ) from None
    pre = modeling_pretrain_av.PretrainAudioVisionTransformer(
        norm_layer=norm_layer, **pre_kw).eval()
    _perturb(pre, gen)
    ft = modeling_finetune_av.AudioVisionTransformer(norm_layer=norm_layer, **ft_kw).eval()
    pre_state = pre.state_dict()
    result = ft.load_state_dict(
        {k: v for k, v in pre_state.items() if k.startswith(('encoder.', 'encoder_audio.',
                                                              'encoder_fusion.'))},
        strict=False)
    extra = sorted(result.missing_keys)
    for key in extra:  # perturb what only the fine-tuning model has
        param = ft.get_parameter(key)
        param.add_(torch.randn(param.shape, generator=gen) * 0.1)

    # Inputs are float16 values (stored as such, half the size), run in float32.
    B = args.batch_size
    video = torch.randn(B, 3, 16, args.img_size, args.img_size, generator=gen).half().float()
    audio = torch.randn(B, 1, *args.spec_size, generator=gen).half().float()
    vgrid = tuple(pre.encoder.patch_embed.input_token_size)
    agrid = tuple(pre.encoder_audio.patch_embed.input_token_size)
    vmask, amask, mask_record = _masks(args, vgrid, agrid)

    # Pre-training: encoders on the visible tokens, then the fusion encoder.
    depth = args.depth
    xv, vint = pre.encoder(video, vmask, list(range(depth)))
    xa, aint = pre.encoder_audio(audio, amask, list(range(depth)))
    overall = torch.cat([xv.mean(1, keepdim=True), xa.mean(1, keepdim=True)], dim=-1)
    fv, fa, _, _ = pre.encoder_fusion(xv, xa, overall)
    nv = xv.shape[1]
    nt, t = pre.encoder.lg_num_region_size[0], pre.encoder.lg_region_size[0]
    nhw = math.prod(pre.encoder.lg_num_region_size[1:])
    video_visible_order = _region_major(
        nv, 'b (nt t nhw hw) c -> b (nt nhw) (t hw) c', nt=nt, t=t, nhw=nhw,
        hw=nv // (nt * t * nhw))
    audio_visible_order = torch.arange(xa.shape[1])  # audio chunks keep the token order

    # Fine-tuning: all tokens, region tokens of every layer (AVF-MAE++'s default), then fusion.
    v_all, a_all = ft.encoder(video), ft.encoder_audio(audio)
    lw_v = torch.softmax(ft.layer_weights_video, 0)
    lw_a = torch.softmax(ft.layer_weights_audio, 0)
    ft_overall = torch.cat([torch.einsum('bnlc,l->bnc', v_all, lw_v),
                            torch.einsum('bnlc,l->bnc', a_all, lw_a)], dim=-1)
    ftv, fta, ft_context = ft.encoder_fusion(v_all[:, :, -1], a_all[:, :, -1], ft_overall)
    logits = ft(video, audio)
    ft.encoder.lg_classify_token_type = 'org'
    ft.encoder_audio.lg_classify_token_type = 'org'
    v_org, a_org = ft.encoder(video), ft.encoder_audio(audio)
    (nt, nh, nw), (t, h, w) = ft.encoder.lg_num_region_size, ft.encoder.lg_region_size
    video_order = _region_major(v_org.shape[1], 'b (nt t nh h nw w) c -> b (nt nh nw) (t h w) c',
                                nt=nt, nh=nh, nw=nw, t=t, h=h, w=w)
    (nh, nw), (h, w) = ft.encoder_audio.lg_num_region_size, ft.encoder_audio.lg_region_size
    audio_order = _region_major(a_org.shape[1], 'b (nh h nw w) c -> b (nh nw) (h w) c',
                                nh=nh, nw=nw, h=h, w=w)

    return dict(
        constructor=dict(
            repo=REFERENCE_REPO, commit=REFERENCE_COMMIT,
            pretrain=dict(module='modeling_pretrain_av', cls='PretrainAudioVisionTransformer',
                          kwargs=pre_kw, norm_eps=1e-6),
            finetune=dict(module='modeling_finetune_av', cls='AudioVisionTransformer',
                          kwargs=ft_kw, norm_eps=1e-6),
            masks=mask_record,
            token_grids=dict(video=list(vgrid), audio=list(agrid)),
            region_grids=dict(video=list(pre.encoder.lg_num_region_size),
                              audio=list(pre.encoder_audio.lg_num_region_size)),
            seed=args.seed, torch=str(torch.__version__)),
        # Wrapped as AVF-MAE++ saves it, with the training arguments the converter reads (a
        # plain dict here; AVF-MAE++ pickles an argparse.Namespace).
        pretrain_state_dict=dict(model=pre_state, epoch=0, args=dict(
            attn_type='local_global', num_frames=16, input_size=args.img_size,
            input_size_audio=args.spec_size[0], num_mel_bins=args.spec_size[1],
            window_size=list(vgrid), window_size_audio=list(agrid),
            lg_region_size=list(args.region_size),
            lg_region_size_audio=list(args.audio_region_size))),
        finetune_extra_state_dict={k: ft.state_dict()[k] for k in extra},
        inputs=dict(video=video.half(), audio=audio.half(), video_mask=vmask, audio_mask=amask),
        outputs={
            'pretrain.video': xv, 'pretrain.audio': xa,
            'pretrain.video_intermediate': torch.stack(vint),
            'pretrain.audio_intermediate': torch.stack(aint),
            'pretrain.video_visible_order': video_visible_order,
            'pretrain.audio_visible_order': audio_visible_order,
            'pretrain.fusion_overall_input': overall,
            'pretrain.fusion_video': fv, 'pretrain.fusion_audio': fa,
            'finetune.video_region_all_layers': v_all,
            'finetune.audio_region_all_layers': a_all,
            'finetune.video_local_all_layers': v_org, 'finetune.audio_local_all_layers': a_org,
            'finetune.video_order': video_order, 'finetune.audio_order': audio_order,
            'finetune.fusion_overall_input': ft_overall,
            'finetune.fusion_video': ftv, 'finetune.fusion_audio': fta,
            'finetune.fusion_context': ft_context, 'finetune.logits': logits,
        },
        output_notes=dict(
            order='AVF-MAE++ returns local tokens region by region: position k of '
                  '*.video / *_local_all_layers holds the token whose ascending index is '
                  '*_order[k] (pre-training: index among the visible tokens).',
            all_layers='(B, tokens, depth, C), each layer normalised by the encoder norm.',
            fusion='pretrain.* fuse the pre-training encoder outputs (region-major order) with '
                   'the mean-token context; finetune.* fuse the last-layer region tokens with '
                   'the layer-weighted context.'),
        lg_block_variants=lg_variants,
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    fixture = build_fixture(args)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    torch.save(fixture, args.out)
    print(f'wrote {args.out} ({osp.getsize(args.out) / 1e6:.2f} MB)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
