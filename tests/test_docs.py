"""The documentation's commands and examples still match the code.

* Every command in a shell block of README.md, CONTRIBUTING.md, docs/*.md and the folder READMEs
  that runs a tool (``tools/...py|sh``, ``benchmarks/...py``) names a file that exists, and every
  ``--flag`` it passes is in that tool's ``--help`` (the ``dist_*``/``slurm_*`` launchers pass
  theirs to ``tools/train.py`` / ``tools/test.py``). All ``--help`` calls share one subprocess.
* Every tool path mentioned anywhere in those pages exists.
* The component example of docs/add_component.md builds and runs, and fails without
  ``_delete_=True`` as the page says.
"""

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest
import torch
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[1]
TOOL_RE = re.compile(r'^(?:\./)?((?:tools|benchmarks)/[\w./-]+\.(?:py|sh))$')
PATH_RE = re.compile(r'(?<![\w/.-])((?:tools|benchmarks)/[\w/-]+\.(?:py|sh))\b')
SHELL_LANGS = ('', 'bash', 'sh', 'shell', 'console')
#: Launch scripts and the Python tool that receives their extra arguments.
FORWARDS = {
    'tools/dist_train.sh': 'tools/train.py',
    'tools/slurm_train.sh': 'tools/train.py',
    'tools/dist_test.sh': 'tools/test.py',
    'tools/slurm_test.sh': 'tools/test.py',
}


def doc_pages() -> List[Path]:
    pages = [REPO / 'README.md', REPO / 'CONTRIBUTING.md', REPO / 'benchmarks' / 'README.md']
    pages += sorted((REPO / 'docs').glob('*.md'))
    pages += sorted((REPO / 'configs').rglob('README.md'))
    pages += sorted((REPO / 'projects').rglob('README.md'))
    return [p for p in pages if p.is_file()]


def code_blocks(text: str) -> List[Tuple[str, str]]:
    """``(language, body)`` of every fenced block (indented fences included)."""
    blocks = []
    for match in re.finditer(r'^([ \t]*)```([\w-]*)[ \t]*\n(.*?)^\1```', text, re.M | re.S):
        blocks.append((match.group(2).lower(), textwrap.dedent(match.group(3))))
    return blocks


def commands(body: str) -> List[List[str]]:
    """The simple commands of a shell block as token lists (comments and continuations done)."""
    joined = re.sub(r'\\\n', ' ', body)
    result = []
    for line in joined.splitlines():
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError:  # unbalanced quotes in prose-like lines: split on blanks
            tokens = line.split('#')[0].split()
        current: List[str] = []
        for tok in tokens:
            if tok in ('&&', '||', ';', '|') or tok.endswith(';'):
                if tok.endswith(';') and tok != ';':
                    current.append(tok[:-1])
                result.append(current)
                current = []
            else:
                current.append(tok)
        result.append(current)
    return [c for c in result if c]


def tool_uses(pages: List[Path]) -> Dict[str, Set[str]]:
    """``{tool path: flags}`` of every documented command, keyed by the tool that parses them.

    Launch scripts map to their own path (existence) and forward their flags to
    :data:`FORWARDS`.
    """
    uses: Dict[str, Set[str]] = {}
    for page in pages:
        for lang, body in code_blocks(page.read_text()):
            if lang not in SHELL_LANGS:
                continue
            for cmd in commands(body):
                for i, tok in enumerate(cmd):
                    match = TOOL_RE.match(tok)
                    if not match:
                        continue
                    tool = match.group(1)
                    flags = {m.group(1) for t in cmd[i + 1:]
                             for m in [re.match(r'^\[*(--[A-Za-z][\w-]*)', t)] if m}
                    uses.setdefault(tool, set())
                    if tool.endswith('.py'):
                        uses[tool] |= flags
                    elif tool in FORWARDS:
                        uses.setdefault(FORWARDS[tool], set()).update(flags)
                    break
    return uses


HELP_RUNNER = r'''
import contextlib, io, json, runpy, sys
result = {}
for tool in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    sys.argv = [tool, '--help']
    code = 'returned without exiting'
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            runpy.run_path(tool, run_name='__main__')
        except SystemExit as exc:
            code = exc.code or 0
        except BaseException as exc:  # noqa: BLE001 - report any failure of the tool
            code = f'{type(exc).__name__}: {exc}'
    result[tool] = dict(code=code, help=out.getvalue(), err=err.getvalue()[-2000:])
sys.stdout.write(json.dumps(result))
'''


@pytest.fixture(scope='module')
def documented():
    return tool_uses(doc_pages())


def test_pages_are_found_and_name_tools(documented):
    assert len(doc_pages()) >= 15
    for tool in ('tools/train.py', 'tools/test.py', 'tools/infer.py', 'benchmarks/run.py'):
        assert tool in documented, f'no documented command runs {tool}'


def test_documented_tool_paths_exist():
    missing = set()
    for page in doc_pages():
        for path in PATH_RE.findall(page.read_text()):
            if not (REPO / path).is_file():
                missing.add(f'{page.relative_to(REPO)}: {path}')
    assert not missing, 'pages name tools that do not exist:\n' + '\n'.join(sorted(missing))


def test_documented_flags_are_accepted(documented):
    tools = sorted(t for t in documented if t.endswith('.py') and (REPO / t).is_file())
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / 'benchmarks')]))
    proc = subprocess.run([sys.executable, '-c', HELP_RUNNER, json.dumps(tools)], cwd=REPO,
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    helps = json.loads(proc.stdout)
    problems = []
    for tool in tools:
        res = helps[tool]
        if res['code'] != 0 or 'usage' not in res['help']:
            problems.append(f'{tool} --help failed ({res["code"]}): {res["err"][-500:]}')
            continue
        for flag in sorted(documented[tool]):
            if not re.search(r'(?<![\w-])' + re.escape(flag) + r'(?![\w-])', res['help']):
                problems.append(f'{tool}: documented flag {flag} is not in its --help')
    assert not problems, '\n'.join(problems)


def test_command_parser_finds_tools_and_flags(tmp_path):
    page = textwrap.dedent('''\
        ```bash
        CUDA_VISIBLE_DEVICES=1 python tools/train.py CONFIG --amp \\
            --cfg-options a=1   # comment --not-a-flag
        bash tools/dist_train.sh CONFIG 8 --resume && python -m pytest -x
        python tools/test.py CONFIG CKPT [--show-dir DIR]
        ```
        ```python
        python tools/ignored.py --nope
        ```
        ''')
    blocks = code_blocks(page)
    assert [lang for lang, _ in blocks] == ['bash', 'python']
    cmds = commands(blocks[0][1])
    assert cmds[0][:3] == ['CUDA_VISIBLE_DEVICES=1', 'python', 'tools/train.py']
    assert '--not-a-flag' not in cmds[0] and cmds[2][:2] == ['python', '-m']
    path = tmp_path / 'page.md'
    path.write_text(page)
    uses = tool_uses([path])
    assert uses == {'tools/train.py': {'--amp', '--cfg-options', '--resume'},
                    'tools/dist_train.sh': set(), 'tools/test.py': {'--show-dir'}}


def _add_component_blocks() -> Tuple[str, str]:
    blocks = [body for lang, body in code_blocks((REPO / 'docs' / 'add_component.md').read_text())
              if lang == 'python']
    cls = next(b for b in blocks if 'class MyFusion' in b)
    cfg = next(b for b in blocks if "type='MyFusion'" in b)
    return cls, cfg


def test_add_component_example_runs(tmp_path):
    from holaframe.registry import MODELS
    from holaframe.utils import register_all_modules
    register_all_modules()
    cls_code, cfg_code = _add_component_blocks()
    assert '_delete_=True' in cfg_code
    module = types.ModuleType('my_fusion_doc_example')
    exec(compile(cls_code, 'docs/add_component.md', 'exec'), module.__dict__)
    try:
        base = re.search(r"_base_ = \['\./([^']+)'\]", cfg_code).group(1)
        cfg_file = tmp_path / 'my_fusion.py'
        cfg_file.write_text(cfg_code.replace(f'./{base}', str(REPO / 'configs' / 'hola' / base)))
        cfg = Config.fromfile(str(cfg_file))
        assert dict(cfg.model.fusion) == dict(type='MyFusion', dim=512)
        model = MODELS.build(cfg.model).eval()
        assert type(model.fusion).__name__ == 'MyFusion'
        with torch.no_grad():
            out = model.extract_feat(dict(video=torch.randn(1, 3, 16, 224, 224),
                                          audio=torch.randn(1, 16, 32)))
        assert out['fused'].shape == (1, 32, 512) and out['logits'].shape == (1, 2)
        # Without _delete_=True the inherited LGCF arguments reach MyFusion, as the page says.
        cfg_file.write_text(cfg_file.read_text().replace('_delete_=True, ', ''))
        with pytest.raises(TypeError, match="unexpected keyword argument 'num_layers'"):
            MODELS.build(Config.fromfile(str(cfg_file)).model)
    finally:
        MODELS._module_dict.pop('MyFusion', None)
