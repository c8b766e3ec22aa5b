"""Every config under configs/ and projects/*/configs/ loads and builds."""

import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.registry import DefaultScope, init_default_scope

from holaframe.registry import DATASETS, METRICS, MODELS, TRANSFORMS
from holaframe.utils import register_all_modules

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted(
    [p for p in (REPO / 'configs').rglob('*.py')] +
    [p for p in (REPO / 'projects').glob('*/configs/**/*.py')])


def _ids(paths):
    return [str(p.relative_to(REPO)) for p in paths]


@pytest.fixture(scope='module', autouse=True)
def _scope():
    register_all_modules(init_default_scope=False)


def _build_dataset(cfg):
    cfg = copy.deepcopy(cfg)
    cls = DATASETS.get(cfg['type'])
    assert cls is not None, f'dataset {cfg["type"]} is not registered'
    if issubclass(cls, BaseDataset):
        cfg['lazy_init'] = True
    return DATASETS.build(cfg)


def _build_pipeline(pipeline):
    for t in pipeline:
        assert TRANSFORMS.get(t['type']) is not None, f'transform {t["type"]} is not registered'
        TRANSFORMS.build(copy.deepcopy(t))


def test_configs_found():
    assert len(CONFIGS) >= 10


def _load(path):
    """Load a config (a project's plugin package is importable through pytest's
    ``pythonpath``, as users put it on ``PYTHONPATH``) and enter its default scope."""
    cfg = Config.fromfile(str(path))
    init_default_scope(cfg.get('default_scope', 'holaframe'))
    return cfg


@pytest.mark.parametrize('path', CONFIGS, ids=_ids(CONFIGS))
def test_config_loads_and_builds(path):
    cfg = _load(path)
    assert DefaultScope.get_current_instance().scope_name == 'holaframe'

    if 'model' in cfg:
        model = MODELS.build(copy.deepcopy(cfg.model))
        assert isinstance(model, torch.nn.Module)
        assert sum(p.numel() for p in model.parameters()) > 0

    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        if loader:
            dataset_cfg = loader['dataset']
            _build_pipeline(dataset_cfg.get('pipeline', []))
            _build_dataset(dataset_cfg)

    for key in ('val_evaluator', 'test_evaluator'):
        evaluator = cfg.get(key)
        if evaluator:
            for metric in evaluator if isinstance(evaluator, list) else [evaluator]:
                METRICS.build(copy.deepcopy(metric))


# --------------------------------------------------------------------------- every model runs
# Experiment configs (not the `_base_` fragments, which have no data settings of their own).
MODEL_CONFIGS = [p for p in CONFIGS if '_base_' not in p.parts
                 and 'model' in Config.fromfile(str(p), import_custom_modules=False)]
# Base-size models (about 100 M parameters) take seconds per forward on 2 CPU cores; so do the
# AVF-MAE++ base/large/huge ones (192-545 M) and the standard-size Table 1 baselines (6-121 M).
MODEL_PARAMS = [pytest.param(p, marks=pytest.mark.slow) if 'vit-base' in p.name
                or 'pretrain_avmae' in p.name or 'avfmae' in p.name
                or (p.parent.name == 'baselines' and 'avdf1mpp' in p.name) else p
                for p in MODEL_CONFIGS]


@pytest.mark.parametrize('path', MODEL_PARAMS, ids=_ids(MODEL_CONFIGS))
def test_model_runs_on_a_batch_from_its_own_pipeline(path, synthetic_avdf_root):
    """Build the model and feed it two clips through the config's own test (else train)
    pipeline and data preprocessor: prediction for detectors, losses for pre-trainers."""
    from holaframe.testing.dummy_batch import build_dummy_batch
    cfg = _load(path)
    model = MODELS.build(copy.deepcopy(cfg.model)).eval()
    batch = build_dummy_batch(cfg, synthetic_avdf_root, batch_size=2)
    data = model.data_preprocessor(batch, training=False)
    with torch.no_grad():
        if hasattr(model, 'predict'):
            preds = model(**data, mode='predict')
            scores = torch.stack([p.pred_score.reshape(()) for p in preds])
            assert len(preds) == 2 and ((scores >= 0) & (scores <= 1)).all()
        else:
            losses = model(**data, mode='loss')
            assert losses and all(torch.isfinite(v).all() for v in losses.values())


@pytest.mark.parametrize('path', MODEL_PARAMS, ids=_ids(MODEL_CONFIGS))
def test_get_flops_runs_on_every_model(path, synthetic_avdf_root):
    """tools/analysis_tools/get_flops.py on each config, its inputs from the config's pipeline."""
    from holaframe.testing.scripts import load_script
    tool = load_script(REPO / 'tools' / 'analysis_tools' / 'get_flops.py')
    cfg = _load(path)
    result = tool.compute_flops(cfg, data_root=synthetic_avdf_root)
    assert result['input_source'] == 'pipeline'
    assert result['flops'] > 0 and result['params'] > 0
    assert result['params'] == sum(p.numel() for p in MODELS.build(copy.deepcopy(cfg.model))
                                   .parameters())


# --------------------------------------------------------------------------- Table 3 ablation
def _flat(node, prefix=''):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            out.update(_flat(value, f'{prefix}{key}.'))
        return out or {prefix[:-1]: {}}
    if isinstance(node, (list, tuple)):
        out = {}
        for i, value in enumerate(node):
            out.update(_flat(value, f'{prefix}{i}.'))
        return out or {prefix[:-1]: []}
    return {prefix[:-1]: node}


HOLA = REPO / 'configs' / 'hola'
# (row before, row after, the only config keys allowed to differ): Table 3's chain.
TABLE3 = [
    ('hola-baseline_vit-base_8xb8-30e_avdf1mpp.py', 'hola-ici_vit-base_8xb8-30e_avdf1mpp.py',
     'model.interaction'),
    ('hola-ici_vit-base_8xb8-30e_avdf1mpp.py', 'hola-ici-lgcf_vit-base_8xb8-30e_avdf1mpp.py',
     'model.fusion'),
    ('hola-ici-lgcf_vit-base_8xb8-30e_avdf1mpp.py', 'hola_vit-base_8xb8-30e_avdf1mpp.py',
     'model.refiner'),
    ('hola-nopseudo_vit-base_8xb8-55e_avdf1mpp.py', 'hola-pseudo-5r_vit-base_8xb8-55e_avdf1mpp.py',
     'custom_hooks'),
]


@pytest.mark.parametrize('before,after,component', TABLE3,
                         ids=[f'{a.split("_")[0]}->{b.split("_")[0]}' for a, b, _ in TABLE3])
def test_table3_rows_differ_only_in_their_component(before, after, component):
    a = _flat(Config.fromfile(str(HOLA / before)).to_dict())
    b = _flat(Config.fromfile(str(HOLA / after)).to_dict())
    missing = object()
    diff = sorted(k for k in set(a) | set(b) if a.get(k, missing) != b.get(k, missing))
    assert diff, f'{before} and {after} are the same config'
    stray = [k for k in diff if k != component and not k.startswith(component + '.')]
    assert not stray, f'{after} differs from {before} outside {component}: {stray[:10]}'


def test_pseudo_control_has_the_same_schedule_as_the_pseudo_row():
    control = Config.fromfile(str(HOLA / 'hola-nopseudo_vit-base_8xb8-55e_avdf1mpp.py'))
    pseudo = Config.fromfile(str(HOLA / 'hola-pseudo-5r_vit-base_8xb8-55e_avdf1mpp.py'))
    assert control.train_cfg.max_epochs == pseudo.train_cfg.max_epochs == 55
    assert control.param_scheduler == pseudo.param_scheduler
    hook = pseudo.custom_hooks[0]
    assert (hook.num_rounds, hook.initial_epochs, hook.epochs_per_round) == (5, 30, 5)
    assert 'custom_hooks' not in control
