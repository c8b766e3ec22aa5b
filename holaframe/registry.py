"""Registries of holaframe.

Every registry is a child of the MMEngine root registry of the same kind, so configs can mix
holaframe and MMEngine components. ``locations`` names the module that, once imported, has
registered every holaframe component of that kind; MMEngine imports it lazily the first time a
component is looked up in the ``holaframe`` scope. Registries that hold no holaframe component
have no ``locations``. ``tests/test_registry.py`` checks that every location registers something
of its kind and that every registered component lives under one of its registry's locations.

Model components (encoders, maskers, fusion blocks, refiners, heads, detectors, pre-trainers,
...) all live in :data:`MODELS`; their *family* is the sub-package that defines them (see
:func:`holaframe.utils.component_family` and ``tools/misc/list_components.py``).
"""

from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import STRATEGIES as MMENGINE_STRATEGIES
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'STRATEGIES', 'LOG_PROCESSORS',
    'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS',
    'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS', 'TASK_UTILS', 'METRICS', 'EVALUATOR', 'VISUALIZERS',
    'VISBACKENDS', 'FUNCTIONS', 'ALL_REGISTRIES'
]

# ``locations`` is given only where holaframe registers components of that kind; the other
# registries hold none of holaframe's own and resolve names through their MMEngine parent.

# Training loop machinery.
RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS)
RUNNER_CONSTRUCTORS = Registry('runner constructor', parent=MMENGINE_RUNNER_CONSTRUCTORS)
LOOPS = Registry('loop', parent=MMENGINE_LOOPS)
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=['holaframe.engine.hooks'])
STRATEGIES = Registry(
    'strategy', parent=MMENGINE_STRATEGIES, locations=['holaframe.engine.strategies'])
LOG_PROCESSORS = Registry('log_processor', parent=MMENGINE_LOG_PROCESSORS)

# Optimisation.
OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS)
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = Registry('parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS)

# Data.
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, locations=['holaframe.datasets'])
DATA_SAMPLERS = Registry('data sampler', parent=MMENGINE_DATA_SAMPLERS,
                         locations=['holaframe.datasets.samplers'])
TRANSFORMS = Registry(
    'transform', parent=MMENGINE_TRANSFORMS, locations=['holaframe.datasets.transforms'])

# Models.
MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['holaframe.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, locations=['holaframe.engine.strategies'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer', parent=MMENGINE_WEIGHT_INITIALIZERS, locations=['holaframe.models'])
TASK_UTILS = Registry('task util', parent=MMENGINE_TASK_UTILS)

# Evaluation and visualisation.
METRICS = Registry('metric', parent=MMENGINE_METRICS, locations=['holaframe.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMENGINE_EVALUATOR)
VISUALIZERS = Registry(
    'visualizer', parent=MMENGINE_VISUALIZERS, locations=['holaframe.visualization'])
VISBACKENDS = Registry('vis_backend', parent=MMENGINE_VISBACKENDS)
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS)

#: Every holaframe registry by its attribute name (used by tests and the component listing).
ALL_REGISTRIES = {
    name: obj
    for name, obj in dict(globals()).items()
    if isinstance(obj, Registry) and not name.startswith('MMENGINE_')
}
