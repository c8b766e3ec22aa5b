"""Import layering: a lower layer of holaframe never imports a higher one.

Every module under ``holaframe/`` is parsed (``ast``, nothing is imported) and each
``import holaframe.X`` / ``from holaframe.X import`` (absolute or relative, at module level or
inside a function) is checked against :data:`LAYERS`, the table of docs/architecture.md.
"""

import ast
import re
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / 'holaframe'

#: Layer of each top-level entry of ``holaframe/``: a module may import its own package and the
#: packages of lower layers; layer 0 packages may also import each other. Packages on the same
#: layer above 0 never import each other (``datasets`` and ``models`` stay independent).
LAYERS: Dict[str, int] = {
    'version': 0,
    'registry': 0,
    'structures': 0,
    'utils': 0,
    'datasets': 1,
    'models': 1,
    'visualization': 1,
    'evaluation': 2,
    'engine': 3,
    'deploy': 4,
    'apis': 5,
    'testing': 5,
}

#: Functions that may import anything inside their body: ``register_all_modules`` imports every
#: package that registers components (as mmpretrain's does).
ALLOWED_FUNCTIONS = {('holaframe.utils.setup_env', 'register_all_modules')}

#: Folders of the repository that the library must never import.
OUTSIDE = ('tools', 'tests', 'benchmarks', 'projects', 'configs')


def module_name(path: Path, root: Path = PACKAGE) -> str:
    """``holaframe/a/b.py`` -> ``holaframe.a.b``; ``holaframe/a/__init__.py`` -> ``holaframe.a``."""
    parts = list(path.relative_to(root.parent).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """Absolute name of a (possibly relative) ``from ... import``."""
    if not node.level:
        return node.module or ''
    base = module.split('.')
    if not is_package:
        base = base[:-1]
    base = base[:len(base) - node.level + 1]
    return '.'.join(base + ([node.module] if node.module else []))


def imported_names(source: str, module: str,
                   is_package: bool = False) -> Iterator[Tuple[int, str, Optional[str]]]:
    """Yield ``(line, imported module, enclosing function or None)`` for every import.

    For ``from holaframe import x`` the name ``holaframe.x`` is yielded, since ``x`` may be a
    sub-package.
    """

    def visit(node: ast.AST, func: Optional[str]) -> Iterator[Tuple[int, str, Optional[str]]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield from visit(child, func or child.name)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield child.lineno, alias.name, func
            elif isinstance(child, ast.ImportFrom):
                target = _resolve(child, module, is_package)
                if target == 'holaframe':
                    for alias in child.names:
                        yield child.lineno, f'holaframe.{alias.name}', func
                else:
                    yield child.lineno, target, func
            yield from visit(child, func)

    yield from visit(ast.parse(source), None)


def layer_violations(source: str, module: str, is_package: bool = False) -> List[str]:
    """Messages for every import of ``module`` that breaks the layer table."""
    own = module.split('.')[1] if '.' in module else 'version'
    if own not in LAYERS:
        return [f'{module}: package "{own}" is not in the layer table of '
                'tests/test_import_layers.py and docs/architecture.md; add it there']
    problems = []
    for line, target, func in imported_names(source, module, is_package):
        top = target.split('.')[0]
        if top in OUTSIDE:
            problems.append(f'{module}:{line} imports {target}: the library never imports '
                            f'the repository folder {top}/')
            continue
        if top != 'holaframe' or '.' not in target:
            continue
        other = target.split('.')[1]
        if other == own or (module, func) in ALLOWED_FUNCTIONS:
            continue
        if other not in LAYERS:
            problems.append(f'{module}:{line} imports {target}: unknown package "{other}"')
            continue
        mine, theirs = LAYERS[own], LAYERS[other]
        if theirs > mine or (theirs == mine and mine > 0):
            problems.append(f'{module}:{line} imports {target}: {own} (layer {mine}) may not '
                            f'import {other} (layer {theirs})')
    return problems


def test_no_lower_layer_imports_a_higher_one():
    files = sorted(PACKAGE.rglob('*.py'))
    assert len(files) > 50, f'expected the holaframe sources under {PACKAGE}'
    problems = []
    for path in files:
        module = module_name(path)
        problems += layer_violations(path.read_text(), module, path.name == '__init__.py')
    assert not problems, 'Import layering broken:\n' + '\n'.join(problems)


def test_every_package_has_a_layer():
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / '__init__.py').exists()}
    missing = packages - set(LAYERS)
    assert not missing, f'holaframe packages without a layer in LAYERS: {sorted(missing)}'


def test_architecture_doc_shows_the_same_table():
    text = (ROOT / 'docs' / 'architecture.md').read_text()
    documented = {}
    for level, cells in re.findall(r'^\| (\d+) \| ([^|]+) \|', text, flags=re.M):
        for name in re.findall(r'`([a-z_]+)/?`', cells):
            documented[name] = int(level)
    assert documented == LAYERS, ('docs/architecture.md layer table differs from LAYERS in '
                                  f'tests/test_import_layers.py: {documented} != {LAYERS}')


@pytest.mark.parametrize('source,module,expected', [
    ('from holaframe.evaluation.x import f', 'holaframe.datasets.t', 'may not import evaluation'),
    ('import holaframe.engine', 'holaframe.utils.launch', 'may not import engine'),
    ('from holaframe.models import M', 'holaframe.datasets.d', 'may not import models'),
    ('from holaframe import apis', 'holaframe.models.m', 'may not import apis'),
    ('from ...engine import hooks', 'holaframe.evaluation.metrics.m', 'may not import engine'),
    ('def f():\n    from holaframe.engine import x', 'holaframe.models.m', 'may not import'),
    ('from tools.train import main', 'holaframe.apis.a', 'never imports'),
    ('import holaframe.models', 'holaframe.newpkg.m', 'not in the layer table'),
])
def test_checker_reports_upward_imports(source, module, expected):
    problems = layer_violations(source, module)
    assert len(problems) == 1 and expected in problems[0], problems


@pytest.mark.parametrize('source,module', [
    ('from holaframe.models.layers import Attention', 'holaframe.deploy.quantization'),
    ('from holaframe.registry import MODELS', 'holaframe.models.m'),
    ('from holaframe import registry', 'holaframe.utils.components'),
    ('from .dist_env import init_dist_env', 'holaframe.engine.runner.launch'),
    ('from holaframe.datasets.leading_silence import f', 'holaframe.evaluation.leading_silence'),
    ('def register_all_modules():\n    import holaframe.engine', 'holaframe.utils.setup_env'),
])
def test_checker_accepts_downward_imports(source, module):
    assert layer_violations(source, module) == []
