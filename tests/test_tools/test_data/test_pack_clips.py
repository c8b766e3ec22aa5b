"""tools/data/pack_clips.py: packs a config's split, survives bad clips, resumes, runs in
parallel, and its pack trains the example config."""

import json
import os
import runpy
import shutil
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from holaframe.datasets import clip_packing
from holaframe.registry import DATASETS
from holaframe.testing import generate_synthetic_avdf

REPO = Path(__file__).resolve().parents[3]
CONFIG = str(REPO / 'configs' / 'hola' / 'hola-dense_tiny_1xb8-10min_synthetic.py')
PACKED_CONFIG = str(REPO / 'configs' / 'hola' / 'hola-dense_tiny_packed_1xb8-10min_synthetic.py')


@pytest.fixture(scope='module')
def tool():
    return runpy.run_path(str(REPO / 'tools' / 'data' / 'pack_clips.py'), run_name='pack_clips')


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    """6 train clips (one silent) and 2 val clips of 2.5 s at 64 px."""
    root = str(tmp_path_factory.mktemp('pack_clips_data'))
    generate_synthetic_avdf(root, num_train=5, num_val=2, num_testA=0, num_testB=0, seed=2,
                            num_silent=1, duration_range=(2.5, 2.5), frame_size=64,
                            silent_size=(64, 96))
    return root


def _run(tool, out_dir, data_root, *extra, config=CONFIG, key='train_dataloader.dataset'):
    return tool['main']([config, str(out_dir), '--shard-size', '2', '--cfg-options',
                         f'{key}.data_root={data_root}', *extra])


def _state(out_dir):
    """(inode, mtime, size) of every shard file."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.stat().st_size)
            for p in sorted((Path(out_dir) / 'shards').iterdir())}


def test_packs_a_split_with_a_progress_bar(tool, data_root, tmp_path, capfd):
    assert _run(tool, tmp_path / 'pack', data_root) == 0
    out, err = capfd.readouterr()
    assert 'packed 6 of 6 clips in 3 shards' in out and '6/6' in err
    index = json.loads((tmp_path / 'pack' / 'index.json').read_text())
    assert index['num_clips'] == 6 and index['split'] == 'train'
    assert index['source']['data_root'] == data_root
    assert [s['clips'] for s in index['shards']] == [2, 2, 2]
    clip = index['clips'][0]
    assert set(clip['arrays']) == {'imgs', 'frame_inds', 'waveform'}
    assert clip['arrays']['imgs']['shape'][1:] == [48, 48, 3]  # the config's mouth crop
    assert clip['info']['file'] and 'gt_label' in clip['info'] and 'fake_segments' in clip['info']
    assert (tmp_path / 'pack' / 'errors.txt').read_text() == ''


def test_bad_clips_are_reported_and_the_rest_packed(tool, data_root, tmp_path, capfd):
    root = tmp_path / 'data'
    shutil.copytree(data_root, root)
    meta = json.loads((root / 'train_metadata.json').read_text())
    corrupt, missing = (root / 'train' / meta[1]['file'], root / 'train' / meta[3]['file'])
    data = corrupt.read_bytes()
    corrupt.write_bytes(data[:len(data) // 3])  # a truncated download
    missing.unlink()
    assert _run(tool, tmp_path / 'pack', root) == 3
    assert 'could not be packed' in capfd.readouterr().err
    lines = (tmp_path / 'pack' / 'errors.txt').read_text().splitlines()
    assert len(lines) == 2
    named = {line.split('\t')[0]: line.split('\t')[1] for line in lines}
    assert named[str(missing)].endswith('file not found')
    assert named[str(corrupt)].startswith(str(corrupt))
    index = json.loads((tmp_path / 'pack' / 'index.json').read_text())
    assert index['num_clips'] == 6 and index['num_failed'] == 2
    assert sum('error' not in c for c in index['clips']) == 4


def test_interrupted_run_resumes_and_keeps_finished_shards(tool, data_root, tmp_path,
                                                           monkeypatch):
    out = tmp_path / 'pack'
    assert _run(tool, out, data_root, '--no-progress') == 0
    reference = json.loads((out / 'index.json').read_text())
    # An interruption in the middle of shard 1 (the third clip): shard 0 is complete, shard 1
    # never appears under its name.
    shutil.rmtree(out)
    calls = []
    real = clip_packing.ClipPacker.pack

    def interrupted(self, info, writer):
        calls.append(info['file'])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, info, writer)

    monkeypatch.setattr(clip_packing.ClipPacker, 'pack', interrupted)
    with pytest.raises(KeyboardInterrupt):
        _run(tool, out, data_root, '--no-progress')
    monkeypatch.setattr(clip_packing.ClipPacker, 'pack', real)
    assert sorted(p.name for p in (out / 'shards').iterdir()) == [
        'shard-000000.bin', 'shard-000000.json']
    assert not (out / 'index.json').exists()
    before = _state(out)
    # What a killed process leaves: a temporary file of the shard it was writing.
    (out / 'shards' / '.shard-000001.bin.x1y2.tmp').write_bytes(b'partial')
    assert _run(tool, out, data_root, '--no-progress') == 0
    after = _state(out)
    assert {k: after[k] for k in before} == before  # finished shard untouched
    assert len(after) == 6  # 3 shards, no temporary file left
    assert json.loads((out / 'index.json').read_text()) == reference
    # A truncated shard binary is packed again; the others stay.
    with open(out / 'shards' / 'shard-000002.bin', 'r+b') as f:
        f.truncate(10)
    before = _state(out)
    assert _run(tool, out, data_root, '--no-progress') == 0
    after = _state(out)
    assert after['shard-000002.bin'][2] == reference['shards'][2]['bytes']
    assert {k: v for k, v in after.items() if '000002' not in k} == \
        {k: v for k, v in before.items() if '000002' not in k}


def test_another_config_into_the_same_folder_is_refused(tool, data_root, tmp_path):
    out = tmp_path / 'pack'
    assert _run(tool, out, data_root, '--no-progress') == 0
    with pytest.raises(SystemExit, match=r'shard-000000\.json: written for another pipeline'):
        _run(tool, out, data_root, '--no-progress', '--cfg-options',
             'train_dataloader.dataset.pipeline.3.size=32')
    with pytest.raises(SystemExit, match='written with shard size 2, this run uses 3'):
        _run(tool, out, data_root, '--no-progress', '--shard-size', '3')


def test_parallel_workers_write_the_same_pack(tool, data_root, tmp_path, capfd):
    assert _run(tool, tmp_path / 'one', data_root, '--no-progress') == 0
    assert _run(tool, tmp_path / 'two', data_root, '--workers', '2') == 0
    assert '6/6' in capfd.readouterr().err
    one, two = (json.loads((tmp_path / d / 'index.json').read_text()) for d in ('one', 'two'))
    assert one == two
    for shard in one['shards']:
        a, b = (tmp_path / d / shard['file'] for d in ('one', 'two'))
        assert a.read_bytes() == b.read_bytes()


def test_the_example_packed_config_packs_and_reads(tool, data_root, tmp_path):
    """pack_clips.py on the packed config packs its `source`; the config's dataset reads it."""
    for split in ('train', 'val'):
        key = f'{split}_dataloader.dataset'
        assert _run(tool, tmp_path / split, data_root, '--no-progress', '--split', split,
                    config=PACKED_CONFIG, key=f'{key}.source') == 0
    cfg = Config.fromfile(PACKED_CONFIG)
    for split in ('train', 'val'):
        dataset_cfg = cfg[f'{split}_dataloader'].dataset
        dataset_cfg.update(pack_dir=str(tmp_path / split))
        dataset_cfg.source.data_root = data_root
        dataset = DATASETS.build(dataset_cfg)
        sample = dataset[0]
        clip_len = 64 if split == 'train' else 160
        assert sample['inputs']['video'].shape == (3, clip_len, 48, 48)
        assert sample['inputs']['audio'].shape == (clip_len, 160)
        assert sample['inputs']['video'].dtype == torch.uint8
    index = json.loads((tmp_path / 'val' / 'index.json').read_text())
    assert index['signature']['frames'] == 'sampled' and 'audio' in index['clips'][0]['arrays']
    assert os.path.isfile(tmp_path / 'val' / 'errors.txt')
