"""Shared pytest fixtures (visible to tests/ and projects/*/tests)."""

import os

import pytest

# Keep tests light on the 2-core CI machine; idle OpenMP threads sleep instead of spinning
# (spinning threads of several processes on 2 cores slow everything several-fold).
os.environ.setdefault('OMP_NUM_THREADS', '2')
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')


@pytest.fixture(scope='session')
def synthetic_avdf_root(tmp_path_factory):
    """A tiny synthetic AV-Deepfake1M++ dataset, generated once per test session.

    Sizes: 16 train, 8 val, 6 testA, 4 testB clips of 3-4 s at 224x224 (plus one silent
    1280x720 clip in train and in val).
    """
    from holaframe.testing import generate_synthetic_avdf

    root = tmp_path_factory.mktemp('synthetic_avdf')
    generate_synthetic_avdf(str(root), num_train=16, num_val=8, num_testA=6, num_testB=4, seed=0,
                            num_silent=1, duration_range=(3.0, 4.0))
    return str(root)


# ---------------------------------------------------------------------------- skip accounting
_SKIPPED_PARITY = []


def pytest_runtest_logreport(report):
    """Remember parity tests that were skipped (their fixture ships in tests/data)."""
    if report.skipped and 'parity' in report.keywords:
        _SKIPPED_PARITY.append(report.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say how many tests were skipped, and name skipped parity tests."""
    skipped = len(terminalreporter.stats.get('skipped', []))
    terminalreporter.write_line(f'holaframe: {skipped} test(s) skipped')
    if _SKIPPED_PARITY:
        terminalreporter.write_line(
            f'holaframe: {len(_SKIPPED_PARITY)} parity test(s) were skipped, which fails the '
            f'run: {_SKIPPED_PARITY[:5]}', red=True)


def pytest_sessionfinish(session, exitstatus):
    """A skipped parity test fails the run: parity must be checked on every clone."""
    if _SKIPPED_PARITY and session.exitstatus == 0:
        session.exitstatus = 1
