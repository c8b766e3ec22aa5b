"""Registries: parents, locations, scope, and the component listing."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.registry import DefaultScope, Registry

from holaframe import registry
from holaframe.registry import ALL_REGISTRIES, MODELS
from holaframe.utils import (
    COMPONENT_FAMILIES,
    component_family,
    list_components,
    register_all_modules,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize('name', sorted(ALL_REGISTRIES))
def test_every_location_imports(name):
    reg = ALL_REGISTRIES[name]
    assert reg.scope == 'holaframe'
    for location in reg._locations:
        importlib.import_module(location)


def _under(module: str, location: str) -> bool:
    return module == location or module.startswith(location + '.')


@pytest.mark.parametrize('name', sorted(ALL_REGISTRIES))
def test_locations_match_what_is_registered(name):
    """No dead location, and every holaframe component is under one of its registry's.

    Components of ``holaframe.testing`` (toys for multi-process tests) are registered only when
    a config or a test imports them by name, so no location covers them.
    """
    register_all_modules(init_default_scope=False)
    reg = ALL_REGISTRIES[name]
    modules = {cls.__module__ for cls in reg.module_dict.values()
               if cls.__module__.startswith('holaframe.')
               and not cls.__module__.startswith('holaframe.testing.')}
    for location in reg._locations:
        assert any(_under(m, location) for m in modules), (
            f'holaframe/registry.py: {name} lists location {location!r}, which registers no '
            f'{reg.name}; remove it')
    for module in modules:
        assert any(_under(module, loc) for loc in reg._locations), (
            f'holaframe/registry.py: {name} has a component from {module} but no location '
            f'covering it (locations {reg._locations})')


@pytest.mark.parametrize('name', sorted(ALL_REGISTRIES))
def test_every_registry_is_a_child_of_mmengine(name):
    reg = ALL_REGISTRIES[name]
    assert isinstance(reg.parent, Registry)
    assert reg.parent.scope == 'mmengine'
    assert reg.parent.name == reg.name


def test_registries_cover_the_engine():
    expected = {
        'MODELS', 'DATASETS', 'TRANSFORMS', 'DATA_SAMPLERS', 'METRICS', 'EVALUATOR', 'HOOKS',
        'LOOPS', 'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
        'PARAM_SCHEDULERS', 'RUNNERS', 'RUNNER_CONSTRUCTORS', 'STRATEGIES', 'VISUALIZERS',
        'VISBACKENDS', 'LOG_PROCESSORS', 'WEIGHT_INITIALIZERS', 'TASK_UTILS', 'MODEL_WRAPPERS'
    }
    assert expected <= set(ALL_REGISTRIES)


def test_build_by_name_in_holaframe_scope():
    """A holaframe component and an MMEngine one build by name from the holaframe scope."""
    with DefaultScope.overwrite_default_scope('holaframe'):
        neck_names = [n for n, c in MODELS.module_dict.items() if component_family(c) == 'necks']
        assert neck_names, 'no neck registered'
        # MMEngine's own components are found through the parent registry.
        sched = registry.PARAM_SCHEDULERS.get('CosineAnnealingLR')
        assert sched.__name__ == 'CosineAnnealingLR'


def test_list_components_groups_by_family():
    components = list_components()
    for family in ('encoders', 'fusion', 'refiners', 'heads', 'detectors', 'datasets',
                   'transforms', 'metrics'):
        assert components.get(family), f'no component registered in family {family}'
    assert set(components) <= set(COMPONENT_FAMILIES)
    with pytest.raises(KeyError, match='Unknown family'):
        list_components('no-such-family')


def test_component_family_attribute_wins():

    class Plugin:
        component_family = 'fusion'

    Plugin.__module__ = 'somewhere.heads.plugin'
    assert component_family(Plugin) == 'fusion'
    del Plugin.component_family
    assert component_family(Plugin) == 'heads'


def test_list_components_cli():
    out = subprocess.run(
        [sys.executable, 'tools/misc/list_components.py', '--family', 'refiners'],
        cwd=REPO, capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith('refiners ('))
    assert any('PyramidRefiner' in line for line in lines[start + 1:])
