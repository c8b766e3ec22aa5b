"""tools/model_converters/avfmae2holaframe.py on the AVF-MAE++ checkpoint of the golden fixture
(built by AVF-MAE++'s own code, tests/data/avfmae_tiny_golden.pt)."""

import argparse
from pathlib import Path

import pytest
import torch

from holaframe.registry import MODELS
from holaframe.testing.scripts import load_script
from holaframe.utils import register_all_modules

REPO = Path(__file__).resolve().parents[3]
FIXTURE = REPO / 'tests' / 'data' / 'avfmae_tiny_golden.pt'
HOLA_CFG = REPO / 'configs' / 'hola' / 'hola_avfmae-base_8xb8-30e_avdf1mpp.py'


def _tool():
    return load_script(REPO / 'tools' / 'model_converters' / 'avfmae2holaframe.py')


conv = _tool()


@pytest.fixture(scope='module')
def golden():
    return torch.load(FIXTURE, map_location='cpu', weights_only=True)


@pytest.fixture
def source(golden, tmp_path):
    """A copy of the reference checkpoint (weights under 'model', training arguments)."""
    ckpt = dict(golden['pretrain_state_dict'])
    ckpt['args'] = argparse.Namespace(**ckpt['args'])  # AVF-MAE++ pickles a Namespace
    path = tmp_path / 'checkpoint-0.pth'
    torch.save(ckpt, path)
    return path, ckpt


def _write(ckpt, path):
    torch.save(ckpt, path)
    return path


def tiny_hola_options(golden, width=None):
    """``--cfg-options`` that shrink the AVF-MAE++ HOLA config to the fixture's model."""
    kw = golden['constructor']['pretrain']['kwargs']
    dim = width or kw['encoder_embed_dim']
    size = dict(embed_dim=dim, depth=kw['encoder_depth'], num_heads=kw['encoder_num_heads'])
    return {
        **{f'model.{enc}.{k}': v for enc in ('video_encoder', 'audio_encoder')
           for k, v in size.items()},
        'model.video_encoder.img_size': 112, 'model.video_encoder.region_size': (2, 7, 7),
        'model.fusion_encoder.embed_dim': dim, 'model.fusion_encoder.num_heads': 2,
        'model.neck.in_channels_video': dim, 'model.neck.in_channels_audio': dim,
        'model.neck.in_length_video': 8 * 7 * 7, 'model.neck.out_channels': 16,
        'model.interaction.dim': 16, 'model.interaction.num_heads': 2,
        'model.fusion.dim': 16, 'model.fusion.num_heads': 2, 'model.refiner.dim': 16,
        'model.head.in_channels': 16,
    }


def test_round_trip_through_holaframe_pretrainer(golden, source, tmp_path):
    """Reference checkpoint -> holaframe names -> AVMAEPretrainer (strict) -> AVF-MAE++ names:
    the same tensors, bit for bit."""
    src, ckpt = source
    dst = tmp_path / 'converted.pth'
    meta = conv.convert_checkpoint(str(src), str(dst))
    assert meta['kind'] == 'pretrain' and meta['avfmae_args']['attn_type'] == 'local_global'
    assert meta['token_grids'] == golden['constructor']['token_grids']
    assert meta['architecture']['video']['region_grid'] == [4, 2, 1]
    assert meta['grid_sources']['video_grid'] == 'checkpoint argument window_size'
    assert len(meta['source_sha256']) == 64
    converted = torch.load(dst, weights_only=True)['state_dict']
    reference = ckpt['model']
    grid_keys = {k for keys in conv.GRID_KEYS.values() for k in keys}
    assert set(converted) - grid_keys == {conv.convert_key(k) for k in reference}
    arch = meta['architecture']
    register_all_modules(init_default_scope=False)
    kw = golden['constructor']['pretrain']['kwargs']
    lg = dict(arch=dict(embed_dim=16, depth=2, num_heads=kw['encoder_num_heads'], mlp_ratio=4.))
    model = MODELS.build(dict(
        type='AVMAEPretrainer',
        video_encoder=dict(type='AVFMAEVideoEncoder', img_size=kw['img_size'],
                           region_size=kw['lg_region_size'], **lg),
        audio_encoder=dict(type='AVFMAEAudioEncoder', spec_size=kw['img_size_audio'],
                           region_size=kw['lg_region_size_audio'], **lg),
        fusion_encoder=dict(type='AVFMAEFusionEncoder', embed_dim=16, depth=2, num_heads=2),
        video_decoder=dict(type='AVMAEDecoder', embed_dim=8, depth=2, num_heads=2),
        audio_decoder=dict(type='AVMAEDecoder', embed_dim=8, depth=2, num_heads=2),
        skip_indices=(0, ), audio_masker=dict(type='RandomMasker', mask_ratio=0.75)))
    assert arch['video_decoder']['num_skips'] == 1
    result = model.load_state_dict(converted, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    back = {conv.revert_key(k): v for k, v in model.state_dict().items() if k not in grid_keys}
    assert set(back) == set(reference)
    for key, value in reference.items():
        assert torch.equal(back[key], value), key


def test_every_unmapped_key_is_reported_and_nothing_written(source, tmp_path):
    src, ckpt = source
    ckpt['model'] = dict(ckpt['model'])
    ckpt['model']['projector.weight'] = torch.zeros(2)
    ckpt['model']['cls_token'] = torch.zeros(1, 1, 16)
    ckpt['model']['encoder.blocks.0.fifth_attn.q.weight'] = torch.zeros(16, 16)
    dst = tmp_path / 'out.pth'
    with pytest.raises(conv.ConversionError) as err:
        conv.convert_checkpoint(str(_write(ckpt, src)), str(dst))
    assert 'projector.weight' in str(err.value) and 'cls_token' in str(err.value)
    assert not dst.exists()
    # A key under a known prefix that holaframe's encoder does not have is named too.
    del ckpt['model']['projector.weight'], ckpt['model']['cls_token']
    with pytest.raises(conv.ConversionError, match=r'no place.*encoder\.blocks\.0\.fifth_attn'):
        conv.convert_checkpoint(str(_write(ckpt, src)), str(dst))
    assert not dst.exists()


def test_partial_model_is_refused(source, tmp_path):
    src, ckpt = source
    ckpt['model'] = {k: v for k, v in ckpt['model'].items()
                     if k != 'encoder_audio.blocks.1.mlp.fc2.weight'}
    dst = tmp_path / 'out.pth'
    with pytest.raises(conv.ConversionError,
                       match=r'missing \(a partial model\).*encoder_audio\.blocks\.1\.mlp\.fc2'):
        conv.convert_checkpoint(str(_write(ckpt, src)), str(dst))
    assert not dst.exists()
    assert conv.main([str(src), str(dst)]) == 1 and not dst.exists()


def test_missing_fusion_encoder_is_refused(source, tmp_path):
    src, ckpt = source
    ckpt['model'] = {k: v for k, v in ckpt['model'].items()
                     if not k.startswith('encoder_fusion.')}
    dst = tmp_path / 'out.pth'
    with pytest.raises(conv.ConversionError, match=r'no fusion encoder \(no encoder_fusion\.\*'):
        conv.convert_checkpoint(str(_write(ckpt, src)), str(dst))
    assert not dst.exists()


def test_width_mismatch_with_the_config_is_refused(golden, source, tmp_path):
    """A checkpoint of another width than the config: the first keys and shapes are named."""
    src, _ = source
    dst = tmp_path / 'out.pth'
    with pytest.raises(conv.ConversionError) as err:
        conv.convert_checkpoint(str(src), str(dst), config=str(HOLA_CFG),
                                cfg_options=tiny_hola_options(golden, width=32))
    text = str(err.value)
    assert 'differ in shape (checkpoint vs config)' in text
    assert 'audio_encoder.blocks.0.' in text and '(16,) vs (32,)' in text
    assert not dst.exists()
    # The same checkpoint fits the config at its own width (MFCC embedding not transferable).
    meta = conv.convert_checkpoint(str(src), str(dst), config=str(HOLA_CFG),
                                   cfg_options=tiny_hola_options(golden))
    assert meta['config_parts'] == ['audio_encoder', 'fusion_encoder', 'video_encoder']
    assert dst.exists()


def test_finetuned_checkpoint_leaves_the_classifier_out(golden, source, tmp_path):
    src, ckpt = source
    model = {k: v for k, v in ckpt['model'].items()
             if k.startswith(('encoder.', 'encoder_audio.', 'encoder_fusion.'))}
    model.update(golden['finetune_extra_state_dict'])
    meta = conv.convert_checkpoint(str(_write(dict(module=model), src)),
                                   str(tmp_path / 'ft.pth'))
    assert meta['kind'] == 'finetune'
    assert sorted(meta['classifier_keys_left_out']) == sorted(golden['finetune_extra_state_dict'])
    assert meta['grid_sources']['video_grid'] == 'AVF-MAE++ release setting'
    converted = torch.load(tmp_path / 'ft.pth', weights_only=True)['state_dict']
    assert not any(k.startswith(('head', 'video_decoder')) for k in converted)


def test_region_count_that_does_not_fit_the_grid_is_refused(source, tmp_path):
    src, _ = source
    with pytest.raises(conv.ConversionError, match=r'8 region tokens.*--video-grid'):
        conv.convert_checkpoint(str(src), str(tmp_path / 'out.pth'), video_grid=(8, 4, 4))


def test_hicmae_layout_points_to_the_other_converter(source, tmp_path):
    src, ckpt = source
    model = {k: v for k, v in ckpt['model'].items() if 'lg_region_tokens' not in k}
    model['encoder.blocks.0.attn.qkv.weight'] = torch.zeros(48, 16)
    with pytest.raises(conv.ConversionError, match='hicmae2holaframe'):
        conv.convert_checkpoint(str(_write(dict(model=model), src)), str(tmp_path / 'o.pth'))


def test_cli_converts_and_reports(source, tmp_path, capsys):
    src, _ = source
    dst = tmp_path / 'cli.pth'
    assert conv.main([str(src), str(dst)]) == 0
    out = capsys.readouterr().out
    assert 'converted pretrain checkpoint' in out and 'sha256' in out and dst.exists()
