"""DeepSpeed is a core requirement (setup.cfg); without it a ZeRO config fails first with a
holaframe error that names the install command."""

import configparser
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

from holaframe.engine.runner.launch import check_strategy_requirements
from holaframe.engine.strategies import hola_deep_speed_strategy as module

REPO = Path(__file__).resolve().parents[3]


def test_deepspeed_is_an_install_requirement_with_the_tested_pin():
    cfg = configparser.ConfigParser()
    cfg.read(REPO / 'setup.cfg')
    requires = [r.strip() for r in cfg['options']['install_requires'].splitlines()
                if r.strip() and not r.strip().startswith('#')]
    pinned = [r for r in requires if r.startswith('deepspeed')]
    assert pinned and pinned[0].split(';')[0] == 'deepspeed==0.19.8'
    assert module.DEEPSPEED_INSTALL == 'pip install deepspeed==0.19.8'
    extras = cfg['options.extras_require']['deepspeed'].split()
    assert extras == ['deepspeed==0.19.8']


def test_strategy_without_deepspeed_names_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setattr(module, 'deepspeed', None)
    with pytest.raises(ImportError, match='pip install deepspeed==0.19.8'):
        module.HolaDeepSpeedStrategy(zero_stage=2, work_dir=str(tmp_path))


def test_build_runner_checks_deepspeed_before_building(monkeypatch):
    monkeypatch.setitem(sys.modules, 'deepspeed', None)  # "not installed"
    cfg = Config.fromfile(str(REPO / 'configs' / '_base_' / 'strategies' / 'zero2.py'))
    with pytest.raises(ImportError, match='pip install deepspeed==0.19.8'):
        check_strategy_requirements(cfg)
    check_strategy_requirements(Config(dict(model=dict(type='X'))))  # no strategy: fine
