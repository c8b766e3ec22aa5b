"""The pre-trained hand-off: PretrainedPart init, config-variable binding, clear failures."""

import contextlib
import copy
import io
import logging

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger

from holaframe.models.initializers import PretrainedPartInit, summarise_keys
from holaframe.registry import MODELS
from holaframe.utils import register_all_modules
from holaframe.utils.pretrained import (
    bind_checkpoint_variables,
    check_pretrained_checkpoints,
    drop_pretrained_inits,
)

NANO = dict(embed_dim=32, depth=2, num_heads=2, mlp_ratio=2.)


@pytest.fixture(autouse=True)
def holaframe_scope():
    """``init_cfg`` types are looked up in the default scope, as under the Runner."""
    register_all_modules(init_default_scope=True)


def _pretrainer_state(arch=NANO, img_size=64) -> dict:
    """A state dict shaped like an AV-MAE checkpoint's encoders and fusion encoder."""
    register_all_modules(init_default_scope=False)
    dim = arch['embed_dim']
    parts = dict(
        video_encoder=dict(type='VideoViTEncoder', arch=arch, img_size=img_size, num_frames=16),
        audio_encoder=dict(type='AudioViTEncoder', arch=arch, input_type='fbank'),
        fusion_encoder=dict(type='HiCMAEFusionEncoder', embed_dim=dim, depth=1, num_heads=2),
    )
    state = {}
    for name, cfg in parts.items():
        module = MODELS.build(cfg)
        module.init_weights()
        state.update({f'{name}.{k}': v for k, v in module.state_dict().items()})
    state['video_decoder.head.weight'] = torch.zeros(3, 3)
    return state


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / 'avmae.pth'
    state = _pretrainer_state()
    torch.save(dict(state_dict=state, meta=dict(epoch=1)), path)
    return str(path), state


@contextlib.contextmanager
def mmengine_log():
    """Text logged through MMEngine's current logger inside the block."""
    logger = MMLogger.get_current_instance()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def _encoder(**kw):
    cfg = dict(type='VideoViTEncoder', arch=NANO, img_size=48, num_frames=16)
    cfg.update(kw)
    return MODELS.build(cfg)


def test_loads_the_part_maps_positions_and_reports(checkpoint):
    path, state = checkpoint
    enc = _encoder(init_cfg=dict(type='PretrainedPart', checkpoint=path, prefix='video_encoder.',
                                 variable='pretrained'))
    with mmengine_log() as log:
        enc.init_weights()
    for key, value in enc.state_dict().items():
        assert torch.equal(value, state['video_encoder.' + key]), key
    assert enc.pos_grid.tolist() == [8, 4, 4] and enc.grid_size == (8, 3, 3)
    text = log.getvalue()
    assert 'positions learned on token grid (8, 4, 4) mapped to this grid (8, 3, 3)' in text
    assert 'video_encoder. <- ' in text and 'loaded' in text


def test_audio_mfcc_embedding_is_reported_not_transferable(checkpoint):
    path, state = checkpoint
    enc = MODELS.build(dict(type='AudioViTEncoder', arch=NANO, input_type='mfcc',
                            init_cfg=dict(type='PretrainedPart', checkpoint=path,
                                          prefix='audio_encoder.')))
    fresh = copy.deepcopy(enc.patch_embed.proj.weight)
    with mmengine_log() as log:
        enc.init_weights()
    assert 'not transferable, kept their initialisation: patch_embed.proj.bias, ' \
           'patch_embed.proj.weight' in log.getvalue()
    assert enc.patch_embed.proj.weight.shape == fresh.shape
    assert torch.equal(enc.blocks[1].attn.qkv.weight,
                       state['audio_encoder.blocks.1.attn.qkv.weight'])
    assert enc.pos_grid.tolist() == [16, 8]


def test_width_mismatch_lists_keys_and_loads_nothing(checkpoint):
    path, _ = checkpoint
    enc = _encoder(embed_dim=64)
    enc.init_weights()
    before = {k: v.clone() for k, v in enc.state_dict().items()}
    with pytest.raises(ValueError, match=r'differ in shape.*blocks\.0\.attn\.proj\.bias \(32,\) '
                                         r'vs \(64,\)') as err:
        PretrainedPartInit(path, prefix='video_encoder.')(enc)
    assert 'embedding width and depth' in str(err.value)
    for key, value in enc.state_dict().items():  # nothing was loaded
        assert torch.equal(value, before[key]), key


def test_depth_mismatch_is_refused(checkpoint):
    path, _ = checkpoint
    deeper = _encoder(depth=3, init_cfg=dict(type='PretrainedPart', checkpoint=path,
                                             prefix='video_encoder.'))
    with pytest.raises(ValueError, match=r'not in the checkpoint, first: \[.blocks\.2\.'):
        deeper.init_weights()
    shallower = _encoder(depth=1, init_cfg=dict(type='PretrainedPart', checkpoint=path,
                                                prefix='video_encoder.'))
    with pytest.raises(ValueError, match=r'no place in the model, first: \[.blocks\.1\.'):
        shallower.init_weights()


def test_missing_file_and_empty_prefix(tmp_path, checkpoint):
    init = PretrainedPartInit(str(tmp_path / 'nope.pth'), prefix='video_encoder.',
                              variable='pretrained')
    with pytest.raises(FileNotFoundError) as err:
        init(_encoder())
    text = str(err.value)
    assert '`pretrained`' in text and 'nope.pth' in text
    assert 'pre-train it' in text and 'convert released weights' in text
    assert '_scratch_' in text
    path, _ = checkpoint
    with pytest.raises(ValueError, match="no tensor under 'head.'"):
        PretrainedPartInit(path, prefix='head.')(_encoder())


def test_summarise_keys_folds_block_indices():
    keys = [f'blocks.{i}.norm1.weight' for i in range(10)] + ['norm.bias']
    assert summarise_keys(keys) == 'blocks.*.norm1.weight x10, norm.bias'
    assert summarise_keys([]) == 'none'


def _cfg(pretrained):
    return Config(dict(
        pretrained=pretrained,
        model=dict(type='X', video_encoder=dict(init_cfg=dict(
            type='PretrainedPart', checkpoint='base.pth', prefix='video_encoder.',
            variable='pretrained')), head=dict(init_cfg=dict(type='Normal', std=0.01)))))


def test_variable_binding_follows_cfg_options(tmp_path):
    cfg = _cfg('other.pth')
    bind_checkpoint_variables(cfg)
    assert cfg.model.video_encoder.init_cfg.checkpoint == 'other.pth'
    with pytest.raises(FileNotFoundError, match='`pretrained` = .other.pth.'):
        check_pretrained_checkpoints(cfg)
    (tmp_path / 'ok.pth').write_bytes(b'')
    cfg = _cfg(str(tmp_path / 'ok.pth'))
    check_pretrained_checkpoints(bind_checkpoint_variables(cfg))
    for none in (None, 'None'):
        cfg = bind_checkpoint_variables(_cfg(none))
        assert cfg.model.video_encoder.init_cfg is None
        assert cfg.model.head.init_cfg.type == 'Normal'
    cfg = _cfg('x.pth')
    assert drop_pretrained_inits(cfg) == 1 and cfg.model.video_encoder.init_cfg is None


def test_paper_config_binds_and_scratch_config_has_no_pretrained_init(tmp_path):
    from holaframe.engine.runner import load_config
    main = 'configs/hola/hola_vit-base_8xb8-30e_avdf1mpp.py'
    cfg = load_config(main, dict(pretrained='elsewhere.pth'), work_dir=str(tmp_path))
    for part in ('video_encoder', 'audio_encoder', 'fusion_encoder'):
        init = cfg.model[part].init_cfg
        assert (init.type, init.checkpoint, init.prefix) == ('PretrainedPart', 'elsewhere.pth',
                                                             part + '.')
    with pytest.raises(FileNotFoundError, match='elsewhere.pth'):
        check_pretrained_checkpoints(cfg)
    scratch = load_config('configs/hola/hola_vit-base_scratch_8xb8-30e_avdf1mpp.py',
                          work_dir=str(tmp_path))
    assert all(scratch.model[p].get('init_cfg') is None
               for p in ('video_encoder', 'audio_encoder', 'fusion_encoder'))
    check_pretrained_checkpoints(scratch)
