"""tools/test.py --submission FILE.json: the Track 2 JSON of a model's ``pred_segments`` on the
synthetic val subset, its metrics, and check_submission's score of the written file."""

import json
import os.path as osp
import runpy
import sys

import pytest
import torch
from mmengine.config import Config

from holaframe.testing import tiny_pipeline

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _write_oracle(tmp_path, data_root):
    cfg = Config(dict(
        default_scope='holaframe',
        custom_imports=dict(imports=['holaframe.testing.segment_oracle_detector'],
                            allow_failed_imports=False),
        model=dict(type='SegmentOracleDetector', shift=0.04),
        test_dataloader=dict(batch_size=2, num_workers=0,
                             sampler=dict(type='DefaultSampler', shuffle=False),
                             dataset=dict(type='AVDeepfake1MDataset', data_root=data_root,
                                          subset='val', test_mode=True,
                                          pipeline=tiny_pipeline())),
        test_evaluator=[dict(type='LocalizationMetric')],
        test_cfg=dict(),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        log_level='WARNING'))
    cfg_path = str(tmp_path / 'oracle.py')
    cfg.dump(cfg_path)
    ckpt_path = str(tmp_path / 'oracle.pth')
    torch.save(dict(meta=dict(epoch=1), state_dict=dict(scale=torch.ones(1))), ckpt_path)
    return cfg_path, ckpt_path


def test_track2_submission_metrics_and_checker_agree(tmp_path, synthetic_avdf_root,
                                                     monkeypatch, capsys):
    cfg_path, ckpt_path = _write_oracle(tmp_path, synthetic_avdf_root)
    sub = tmp_path / 'out' / 'val_track2.json'
    work = tmp_path / 'work'
    tool = runpy.run_path(osp.join(REPO, 'tools', 'test.py'), run_name='holaframe_test_tool')
    monkeypatch.setattr(sys, 'argv', ['test.py', cfg_path, ckpt_path, '--work-dir', str(work),
                                      '--submission', str(sub)])
    assert tool['main']() == 0
    meta = json.loads(open(osp.join(synthetic_avdf_root, 'val_metadata.json')).read())
    data = json.loads(sub.read_text())
    # Every video, in the metadata order, with its proposals sorted by confidence.
    assert list(data) == [m['file'] for m in meta]
    by_file = {m['file']: m['fake_segments'] for m in meta}
    for file, rows in data.items():
        assert len(rows) == len(by_file[file]) + 1
        assert [r[0] for r in rows] == sorted((r[0] for r in rows), reverse=True)
        for (s, e), row in zip(by_file[file], rows):
            assert row[1] == pytest.approx(s + 0.04, abs=1e-6)
            assert row[2] == pytest.approx(e + 0.04, abs=1e-6)
    metrics = json.loads((work / 'metrics.json').read_text())
    assert metrics['submission/num_videos'] == len(meta)
    assert metrics['track2/num_videos'] == len(meta)
    assert 0.0 < metrics['track2/score'] < 1.0

    # The checker accepts the file and scores it as the metric did.
    listed = tmp_path / 'val_files.txt'
    listed.write_text(''.join(m['file'] + '\n' for m in meta))
    check = runpy.run_path(osp.join(REPO, 'tools', 'misc', 'check_submission.py'),
                           run_name='check_submission')['main']
    capsys.readouterr()
    code = check([str(sub), '--list', str(listed), '--metadata',
                  osp.join(synthetic_avdf_root, 'val_metadata.json'), '--json',
                  '--num-resamples', '100'])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result['problems'] == []
    assert result['score']['value'] == pytest.approx(metrics['track2/score'], abs=1e-12)
    for t in ('0.5', '0.75', '0.9', '0.95'):
        assert result['ap'][t]['value'] == pytest.approx(metrics[f'track2/ap@{t}'], abs=1e-12)
    for n in ('50', '30', '20', '10', '5'):
        assert result['ar'][n]['value'] == pytest.approx(metrics[f'track2/ar@{n}'], abs=1e-12)
