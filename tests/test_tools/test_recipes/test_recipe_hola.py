"""tools/recipes/hola.py: the nano recipe end to end on tiny data, each stage consuming the
previous stage's output, resumed by a rerun after a failed stage."""

import json
import os.path as osp
import subprocess
import sys

import pytest
import torch

from holaframe.registry import MODELS
from holaframe.utils import register_all_modules
from holaframe.utils.checkpoint import allow_mmengine_checkpoints, load_weights

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
TOOL = osp.join(REPO, 'tools', 'recipes', 'hola.py')
ONE_EPOCH = ['pretrain:train_cfg.max_epochs=1', 'finetune:train_cfg.max_epochs=1']


def _recipe(data_root, work_dir, *extra):
    return subprocess.run([sys.executable, TOOL, '--scale', 'nano', '--data-root', data_root,
                           '--work-dir', work_dir, *extra], cwd=REPO, capture_output=True,
                          text=True, timeout=1200)


def _stage(work_dir, name):
    with open(osp.join(work_dir, name, 'stage.json')) as f:
        return json.load(f)['outputs']


@pytest.mark.slow
def test_nano_recipe_end_to_end_resuming_after_a_failed_stage(synthetic_avdf_root, tmp_path):
    work = str(tmp_path / 'recipe')
    # A first run whose fine-tuning stage fails: the error names the stage's log, no stage.json
    # is written for it, and the stages before it are kept.
    bad = _recipe(synthetic_avdf_root, work, '--override', *ONE_EPOCH,
                  'finetune:model.neck.out_length=-3')
    assert bad.returncode == 1
    log = osp.join(work, 'finetune', 'recipe_stage.log')
    assert "stage 'finetune' failed" in bad.stderr and log in bad.stderr
    assert not osp.exists(osp.join(work, 'finetune', 'stage.json'))
    for i, stage in enumerate(('data', 'pretrain', 'handoff', 'finetune')):
        assert f'stage {i + 1}/6 {stage}: running' in bad.stdout
    assert 'pseudo: running' not in bad.stdout
    # The rerun resumes at the failed stage and runs the chain to its end.
    proc = _recipe(synthetic_avdf_root, work, '--override', *ONE_EPOCH)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for i, stage in enumerate(('data', 'pretrain', 'handoff')):
        assert f'stage {i + 1}/6 {stage}: already done, skipped' in proc.stdout
    for i, stage in enumerate(('finetune', 'pseudo', 'test')):
        assert f'stage {i + 4}/6 {stage}: running' in proc.stdout

    pretrain, handoff = _stage(work, 'pretrain'), _stage(work, 'handoff')
    finetune, pseudo, test = (_stage(work, s) for s in ('finetune', 'pseudo', 'test'))
    # Hand-off: the pre-training checkpoint's weights, with the pre-training token grids.
    assert handoff['source'] == pretrain['checkpoint']
    assert handoff['token_grids'] == dict(video_encoder=[8, 8, 8], audio_encoder=[16, 8])
    with allow_mmengine_checkpoints():
        pre = load_weights(pretrain['checkpoint'])
    handed = load_weights(handoff['checkpoint'])
    assert all(torch.equal(handed[k], pre[k]) for k in pre)

    # Fine-tuning loaded the hand-off file (logged by PretrainedPart) and mapped the positions.
    log = open(osp.join(work, 'finetune', 'recipe_stage.log')).read()
    for part in ('video_encoder', 'audio_encoder', 'fusion_encoder'):
        assert f'{part}. <- {handoff["checkpoint"]}: loaded' in log
    assert 'VideoViTEncoder: positions learned on token grid (8, 8, 8) mapped to this grid ' \
           '(8, 7, 7)' in log
    # Its encoder weights start from the pre-trained ones, not from random: after one short
    # epoch they are far closer to the hand-off weights than to a fresh initialisation.
    with allow_mmengine_checkpoints():
        tuned = load_weights(finetune['checkpoint'])
    register_all_modules(init_default_scope=True)
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs/hola/hola_vit-nano_scratch_1xb8-10min_'
                                         'synthetic.py'))
    fresh = MODELS.build(cfg.model)
    fresh.init_weights()
    fresh = fresh.state_dict()
    keys = [k for k in tuned if k.startswith(('video_encoder.blocks', 'fusion_encoder.'))
            and tuned[k].dtype.is_floating_point]
    to_pre = sum((tuned[k] - handed[k]).norm() ** 2 for k in keys) ** 0.5
    to_fresh = sum((tuned[k] - fresh[k]).norm() ** 2 for k in keys) ** 0.5
    assert to_pre < 0.2 * to_fresh, (float(to_pre), float(to_fresh))

    # Pseudo-label rounds start from the fine-tuned checkpoint; the test uses their result.
    log = open(osp.join(work, 'pseudo', 'recipe_stage.log')).read()
    assert f'load_from={finetune["checkpoint"]}' in log
    assert f'Load checkpoint from {finetune["checkpoint"]}' in log
    assert set(pseudo['pseudo_labels']) == {'round_1', 'round_2'}
    assert test['checkpoint'] == pseudo['checkpoint']
    with open(test['submission']) as f:
        assert len(f.read().splitlines()) == 6
    assert 0.0 <= test['val_auc'] <= 1.0 and osp.isfile(test['roc'])
    assert osp.isfile(osp.join(work, 'summary.md'))

    # A third run skips every finished stage.
    again = _recipe(synthetic_avdf_root, work, '--stop-after', 'handoff')
    assert again.returncode == 0 and again.stdout.count('already done, skipped') == 3


def test_override_syntax_is_checked():
    proc = subprocess.run([sys.executable, TOOL, '--override', 'finetune-max_epochs=1'],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0 and 'STAGE:KEY=VALUE' in proc.stderr
