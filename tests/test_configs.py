"""Every config under configs/ and projects/*/configs/ loads and builds."""

import copy
import sys
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


@pytest.mark.parametrize('path', CONFIGS, ids=_ids(CONFIGS))
def test_config_loads_and_builds(path):
    rel = path.relative_to(REPO)
    if rel.parts[0] == 'projects':
        # A project's plugin package sits in the project's root (users set PYTHONPATH to it).
        sys.path.insert(0, str(REPO / rel.parts[0] / rel.parts[1]))
    cfg = Config.fromfile(str(path))
    if 'custom_imports' in cfg:
        import importlib
        for module in cfg.custom_imports['imports']:
            importlib.import_module(module)
    scope = cfg.get('default_scope', 'holaframe')
    init_default_scope(scope)
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
