"""Listing registered components by family.

All model components share the ``MODELS`` registry (MMEngine builds nested ``dict(type=...)``
from one registry). A component's *family* is therefore taken, in this order, from

1. a class attribute ``component_family`` (third-party plugins may set it), or
2. the sub-package its class is defined in (``holaframe.models.encoders.*`` -> ``encoders``,
   ``my_plugin.fusion.*`` -> ``fusion``), or
3. the registry for non-model registries (``datasets``, ``transforms``, ``metrics``, ...).
"""

from typing import Dict, List, Optional

from mmengine.registry import Registry

#: Model sub-packages that name a family.
MODEL_FAMILIES = ('encoders', 'maskers', 'necks', 'fusion', 'refiners', 'heads', 'detectors',
                  'pretrainers', 'losses', 'data_preprocessors', 'layers', 'postprocessors')

#: Families that come from a whole registry.
REGISTRY_FAMILIES = {
    'datasets': 'DATASETS',
    'samplers': 'DATA_SAMPLERS',
    'transforms': 'TRANSFORMS',
    'metrics': 'METRICS',
    'hooks': 'HOOKS',
    'loops': 'LOOPS',
    'strategies': 'STRATEGIES',
    'runners': 'RUNNERS',
    'optim_wrapper_constructors': 'OPTIM_WRAPPER_CONSTRUCTORS',
}

COMPONENT_FAMILIES = MODEL_FAMILIES + ('models', ) + tuple(REGISTRY_FAMILIES)


def component_family(cls: type) -> str:
    """Return the family name of a registered model component class."""
    family = getattr(cls, 'component_family', None)
    if family:
        return family
    for part in reversed(cls.__module__.split('.')):
        if part in MODEL_FAMILIES:
            return part
    return 'models'


def _own_items(registry: Registry) -> Dict[str, type]:
    """Components registered in this registry itself (not in the MMEngine parent)."""
    return dict(registry.module_dict)


def list_components(family: Optional[str] = None) -> Dict[str, List[dict]]:
    """Return ``{family: [{'name', 'module'}...]}`` of holaframe's registered components.

    Args:
        family (str, optional): Only this family. See :data:`COMPONENT_FAMILIES`.
    """
    from holaframe import registry
    from holaframe.utils.setup_env import register_all_modules

    register_all_modules(init_default_scope=False)
    if family is not None and family not in COMPONENT_FAMILIES:
        raise KeyError(f'Unknown family {family!r}; choose from {", ".join(COMPONENT_FAMILIES)}')

    result: Dict[str, List[dict]] = {}
    for name, cls in _own_items(registry.MODELS).items():
        result.setdefault(component_family(cls), []).append(
            dict(name=name, module=cls.__module__))
    for fam, reg_name in REGISTRY_FAMILIES.items():
        for name, cls in _own_items(getattr(registry, reg_name)).items():
            result.setdefault(fam, []).append(dict(name=name, module=cls.__module__))
    for items in result.values():
        items.sort(key=lambda d: d['name'])
    if family is not None:
        return {family: result.get(family, [])}
    return dict(sorted(result.items()))
