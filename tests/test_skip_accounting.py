"""The repository's conftest: a skipped parity test fails the run, skips are counted."""

from pathlib import Path

pytest_plugins = ['pytester']

CONFTEST = (Path(__file__).resolve().parents[1] / 'conftest.py').read_text()


def test_skipped_parity_test_fails_the_run(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makeini('[pytest]\nmarkers =\n    parity: parity\n')
    pytester.makepyfile(test_a='''
import pytest

@pytest.mark.parity
def test_parity():
    pytest.skip('fixture missing')

def test_other():
    pytest.skip('not here')
''')
    result = pytester.runpytest()
    assert result.ret == 1
    result.stdout.fnmatch_lines(['*holaframe: 2 test(s) skipped*',
                                 '*1 parity test(s) were skipped, which fails the run*'])


def test_ordinary_skips_do_not_fail(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_b='''
import pytest

def test_other():
    pytest.skip('not here')
''')
    result = pytester.runpytest()
    assert result.ret == 0
    result.stdout.fnmatch_lines(['*holaframe: 1 test(s) skipped*'])
