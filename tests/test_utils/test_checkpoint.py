"""holaframe.utils.checkpoint: one weights-only loader for files and URLs, used by every path.

URLs are served by a local HTTP server started in the test; nothing is downloaded from outside.
"""

import hashlib
import os
import os.path as osp
import shutil

import pytest
import torch
from mmengine.config import Config
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.model import BaseModule

from holaframe.testing.hostile_checkpoints import (
    serve_directory,
    write_code_running_checkpoint,
    write_history_buffer_checkpoint,
)
from holaframe.utils import register_all_modules
from holaframe.utils.checkpoint import (
    ChecksumError,
    UnsafeCheckpointError,
    load_checkpoint,
    load_checkpoint_safely,
    load_weights,
)


@pytest.fixture
def hub_dir(tmp_path):
    """torch.hub's cache in a temporary folder (downloads land there)."""
    previous = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / 'hub'))
    yield tmp_path / 'hub'
    torch.hub.set_dir(previous)


@pytest.fixture
def served(tmp_path):
    """A folder served over HTTP: (folder, base URL)."""
    folder = tmp_path / 'www'
    folder.mkdir()
    with serve_directory(str(folder)) as (base, _):
        yield folder, base


@pytest.fixture
def hostile(tmp_path, served):
    """A checkpoint that runs ``touch <marker>`` when fully unpickled, as file and URL."""
    folder, base = served
    marker = tmp_path / 'PWNED'
    write_code_running_checkpoint(str(folder / 'evil.pth'), str(marker))
    return dict(path=str(folder / 'evil.pth'), url=f'{base}/evil.pth', marker=marker)


def _sha256(path) -> str:
    return hashlib.sha256(open(path, 'rb').read()).hexdigest()


def _assert_refused(excinfo, marker, names=('system', )):
    text = str(excinfo.value)
    for name in names:
        assert name in text, text
    assert '--unsafe-load' in text, text
    assert not marker.exists(), 'the checkpoint ran code while it was read'


def test_url_loads_weights_only_into_the_cache(hub_dir, tmp_path):
    weights = dict(state_dict=dict(w=torch.arange(4.0)), meta=dict(epoch=3))
    src = tmp_path / 'src.pth'
    torch.save(weights, src)
    digest = _sha256(src)
    folder = tmp_path / 'www'
    folder.mkdir()
    name = f'hola_tiny-{digest[:8]}.pth'  # the OpenMMLab naming convention
    shutil.copy(src, folder / name)
    with serve_directory(str(folder)) as (base, _):
        url = f'{base}/{name}'
        assert torch.equal(load_weights(url)['w'], torch.arange(4.0))
        assert load_checkpoint(url, sha256=digest)['meta'] == dict(epoch=3)
    cached = hub_dir / 'checkpoints' / name
    assert cached.is_file()
    # The server is gone: the cached, verified file is used.
    assert torch.equal(load_weights(url)['w'], torch.arange(4.0))


def test_url_checksums(hub_dir, tmp_path):
    folder = tmp_path / 'www'
    folder.mkdir()
    torch.save(dict(w=torch.zeros(1)), folder / 'model-deadbeef.pth')  # wrong name hash
    torch.save(dict(w=torch.zeros(1)), folder / 'plain.pth')
    with serve_directory(str(folder)) as (base, _):
        with pytest.raises(ChecksumError, match='deadbeef'):
            load_checkpoint(f'{base}/model-deadbeef.pth')
        assert not (hub_dir / 'checkpoints' / 'model-deadbeef.pth').exists()  # deleted
        with pytest.raises(ChecksumError, match='expected'):
            load_checkpoint(f'{base}/plain.pth', sha256='0' * 64)
        good = _sha256(folder / 'plain.pth')
        assert load_checkpoint(f'{base}/plain.pth', sha256=good)['w'].shape == (1, )
    # A cached file that was changed afterwards fails the check again.
    cached = hub_dir / 'checkpoints' / 'plain.pth'
    torch.save(dict(w=torch.ones(1)), cached)
    with pytest.raises(ChecksumError):
        load_checkpoint(f'{base}/plain.pth', sha256=good)


def test_the_hostile_file_really_runs_code(hostile):
    """Control: a full pickle load of the fixture runs its payload."""
    load_checkpoint(hostile['path'], unsafe=True)
    assert hostile['marker'].exists()


def test_functions_refuse_code_from_files_and_urls(hostile, hub_dir):
    for source in (hostile['path'], hostile['url']):
        for fn in (load_checkpoint, load_checkpoint_safely, load_weights):
            with pytest.raises(UnsafeCheckpointError) as err:
                fn(source)
            _assert_refused(err, hostile['marker'])


def test_mmengine_loaders_refuse_code(hostile, hub_dir):
    """MMEngine's own entry points (``_load_checkpoint``, ``init_cfg=dict(type='Pretrained')``)
    use holaframe's loader once holaframe's modules are registered."""
    from mmengine.runner.checkpoint import _load_checkpoint
    register_all_modules(init_default_scope=False)
    for source in (hostile['path'], hostile['url']):
        with pytest.raises(UnsafeCheckpointError) as err:
            _load_checkpoint(source, map_location='cpu')
        _assert_refused(err, hostile['marker'])
        module = BaseModule(init_cfg=dict(type='Pretrained', checkpoint=source))
        module.weight = torch.nn.Parameter(torch.zeros(2))
        with pytest.raises(UnsafeCheckpointError) as err:
            module.init_weights()
        _assert_refused(err, hostile['marker'])
    with pytest.raises(ValueError, match='local files and http'):
        _load_checkpoint('open-mmlab://resnet50_v1c')


def test_pretrained_part_refuses_code(hostile, hub_dir):
    from holaframe.models.initializers.pretrained_part_init import PretrainedPartInit
    for source in (hostile['path'], hostile['url']):
        init = PretrainedPartInit(checkpoint=source, prefix='video_encoder.')
        with pytest.raises(UnsafeCheckpointError) as err:
            init(torch.nn.Linear(2, 2))
        _assert_refused(err, hostile['marker'])


def _toy_cfg(work_dir, load_from, resume, name='toy'):
    import holaframe.testing.distributed  # noqa: F401 - registers the toy model and data
    return Config(dict(
        default_scope='holaframe',
        work_dir=work_dir,
        model=dict(type='DistToyDetector', data_preprocessor=dict(type='AVDataPreprocessor')),
        train_dataloader=dict(batch_size=2, num_workers=0, collate_fn=dict(type='pseudo_collate'),
                              sampler=dict(type='DefaultSampler', shuffle=True),
                              dataset=dict(type='DistToyDataset', num_samples=4)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        log_level='WARNING',
        experiment_name=name,
        load_from=load_from,
        resume=resume))


def test_runner_load_from_and_resume_refuse_code(hostile, hub_dir, tmp_path):
    from holaframe.engine.runner import build_runner
    for i, (source, resume) in enumerate([(hostile['url'], False), (hostile['url'], True),
                                          (hostile['path'], True)]):
        runner = build_runner(_toy_cfg(str(tmp_path / f'run{i}'), source, resume,
                                       name=f'refuse_{i}'))
        with pytest.raises(UnsafeCheckpointError) as err:
            runner.train()
        _assert_refused(err, hostile['marker'])


def test_inference_api_and_deepspeed_loaders_refuse_code(hostile, hub_dir, tmp_path):
    from holaframe.apis import init_detector
    from holaframe.engine.strategies.hola_deep_speed_strategy import (
        HolaDeepSpeedStrategy,
        _safe_deepspeed_load,
    )
    from holaframe.testing import tiny_config
    cfg = tiny_config(str(tmp_path))
    for source in (hostile['path'], hostile['url']):
        with pytest.raises(UnsafeCheckpointError) as err:
            init_detector(cfg, source)
        _assert_refused(err, hostile['marker'])
        strategy = HolaDeepSpeedStrategy(zero_stage=2, work_dir=str(tmp_path))
        with pytest.raises(UnsafeCheckpointError) as err:
            strategy.load_checkpoint(source)
        _assert_refused(err, hostile['marker'])
    # DeepSpeed's own checkpoint engine (resume from a ZeRO folder) reads shards through it.
    with pytest.raises(UnsafeCheckpointError) as err:
        _safe_deepspeed_load(hostile['path'], map_location='cpu')
    _assert_refused(err, hostile['marker'])


def test_converters_refuse_code(hostile, hub_dir, tmp_path):
    from holaframe.testing.scripts import load_script
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

    def tool(name):
        return load_script(osp.join(repo, 'tools', 'model_converters', f'{name}.py'))

    with pytest.raises(UnsafeCheckpointError) as err:
        tool('hicmae2holaframe').convert_checkpoint(hostile['url'], str(tmp_path / 'out.pth'))
    _assert_refused(err, hostile['marker'])
    assert not (tmp_path / 'out.pth').exists()
    zero_dir = tmp_path / 'epoch_1.pth'
    zero_dir.mkdir()
    shutil.copy(hostile['path'], zero_dir / 'mp_rank_00_model_states.pt')
    with pytest.raises(UnsafeCheckpointError) as err:
        tool('zero2holaframe').convert(str(zero_dir), str(tmp_path / 'out2.pth'))
    _assert_refused(err, hostile['marker'])


def test_history_buffer_is_not_allowed(tmp_path):
    """MMEngine's HistoryBuffer is not on the allow-list: a checkpoint that reaches for the class
    (here: to register ``update`` as a process-wide statistics method) is refused, naming it, and
    the process is unchanged. (torch's own check already kept this payload from running before;
    what changed is that the class is no longer reachable at all.)"""
    path = write_history_buffer_checkpoint(str(tmp_path / 'hub.pth'))
    methods = dict(HistoryBuffer._statistics_methods)
    try:
        with pytest.raises(UnsafeCheckpointError) as err:
            load_checkpoint(path)
        assert 'HistoryBuffer' in str(err.value) and '--unsafe-load' in str(err.value)
        assert HistoryBuffer._statistics_methods == methods
    finally:
        HistoryBuffer._statistics_methods.clear()
        HistoryBuffer._statistics_methods.update(methods)


def test_unsafe_option_reads_a_trusted_file(tmp_path):
    from mmengine.logging import MessageHub

    from holaframe.utils.checkpoint import unsafe_load_allowed
    hub = MessageHub(name='trusted_old_checkpoint')
    hub.update_scalar('train/loss', 0.25)
    path = str(tmp_path / 'old.pth')
    torch.save(dict(state_dict=dict(w=torch.ones(1)), message_hub=hub.state_dict()), path)
    with pytest.raises(UnsafeCheckpointError, match='HistoryBuffer'):
        load_checkpoint(path)
    with unsafe_load_allowed():
        ckpt = load_checkpoint(path)
    assert isinstance(ckpt['message_hub']['log_scalars']['train/loss'], HistoryBuffer)
    assert os.path.isfile(path)
