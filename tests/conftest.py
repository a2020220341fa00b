"""Settings every test shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.engine import fleet, replica

from helpers import LANGUAGE_VARIABLES


def pytest_sessionstart(session: pytest.Session) -> None:
    """A module compiled before its source last changed would test old code (setup.py compiles them)."""
    for module in (replica, fleet):
        built = Path(module.__file__ or "")
        source = built.parent / f"{module.__name__.rsplit('.', 1)[1]}.py"
        if built != source and source.stat().st_mtime > built.stat().st_mtime:
            pytest.exit(
                f"{source} changed after it was compiled: run `pip install -e .` again, or delete {built} to test "
                "it as Python",
                returncode=2,
            )


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def private_cache(monkeypatch: pytest.MonkeyPatch, session_cache: Path) -> None:
    """The tests, and the commands and servers they start, keep their caches out of the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(session_cache))


@pytest.fixture(autouse=True)
def english_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --lang the language comes from the environment: tests read English whatever the machine's
    locale, and so do the commands and servers they start (which inherit it)."""
    for name in LANGUAGE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
