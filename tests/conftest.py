"""Settings every test shares."""

from __future__ import annotations

import pytest

from helpers import LANGUAGE_VARIABLES


@pytest.fixture(autouse=True)
def english_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --lang the language comes from the environment: tests read English whatever the machine's
    locale, and so do the commands and servers they start (which inherit it)."""
    for name in LANGUAGE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
