"""The language of human output: gettext catalogues read with Babel, and numbers and dates per locale.

Every sentence, label and heading a person reads goes through `_` (or `ngettext`; `N_` marks text
kept in a constant and translated where it is shown); `pybabel extract` collects them and
`simulator/locales/<lang>/LC_MESSAGES/messages.po` translates them. JSON keys, scenario fields,
category codes and error messages stay English, so files and reports of problems read the same
everywhere.

The language is a context variable, so that each dashboard session (a thread of its own) and each
command sets its own: `--lang`, else the dashboard's switch, else `LANGUAGE`, `LC_ALL`,
`LC_MESSAGES` or `LANG` as gettext reads them, else English.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import math
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from simulator.errors import InputError

LANGUAGES = {"en": "English", "ja": "日本語"}
"""Each language's code and its name in itself."""
SOURCE_LANGUAGE = "en"
CATALOGUES = Path(__file__).parent / "locales"
DOMAIN = "messages"

_active: ContextVar[str] = ContextVar("language", default=SOURCE_LANGUAGE)


def language() -> str:
    return _active.get()


def set_language(code: str) -> None:
    _active.set(code)


@contextmanager
def using(code: str) -> Iterator[None]:
    """Run a block in one language and restore the one before."""
    token = _active.set(code)
    try:
        yield
    finally:
        _active.reset(token)


def _code(value: str) -> str | None:
    """A language code out of `ja`, `ja_JP.UTF-8`, `ja-JP` or `en_GB@euro`; None when unsupported."""
    base = value.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    return base if base in LANGUAGES else None


def parse(value: str, source: str = "--lang") -> str:
    """A language the user asked for by name, or a one-line error listing the ones there are."""
    code = _code(value.strip())
    if code is None:
        raise InputError(source, "", f"unknown language {value!r}", f"choose one of {', '.join(LANGUAGES)}")
    return code


def asked_or_environment(asked: str | None) -> str:
    """The language `asked` names if it names one there is, else the environment's: for a choice made
    before a wrong value can be refused (a parser's help, a link's `?lang=`)."""
    code = _code(asked.strip()) if asked else None
    return code or from_environment()


def from_environment(environ: Mapping[str, str] = os.environ) -> str:
    """The language the environment asks for, read as GNU gettext does; English when it names none we have.

    The locale is the first of `LC_ALL`, `LC_MESSAGES` and `LANG` that is set; `LANGUAGE`, a list
    of preferences, outranks it unless the locale is C (or unset, which is C).
    """
    locale = next((environ[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG") if environ.get(name)), "C")
    if locale in ("C", "POSIX") or locale.startswith("C."):
        return SOURCE_LANGUAGE
    for wanted in environ.get("LANGUAGE", "").split(":"):
        code = _code(wanted) if wanted else None
        if code is not None:
            return code
    return _code(locale) or SOURCE_LANGUAGE


@cache
def translations(code: str) -> gettext.NullTranslations:
    """The catalogue of one language, read from its .po file (the source text is English itself)."""
    if code == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(CATALOGUES / code / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as f:
        catalogue = read_po(f, locale=code)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _(message: str) -> str:
    """`message` in the active language."""
    return translations(_active.get()).gettext(message)


def ngettext(singular: str, plural: str, n: float) -> str:
    return translations(_active.get()).ngettext(singular, plural, int(n) if float(n).is_integer() else 2)


def N_(message: str) -> str:
    """Mark text for the catalogue without translating it yet: it is translated where it is shown."""
    return message


# --- numbers and dates, per locale ---------------------------------------------------------------


def number(value: float, digits: int = 0) -> str:
    """A number grouped and rounded as the active locale writes it: 1,234.5."""
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_active.get())


def percent(share: float, digits: int = 0) -> str:
    """A share (0-1) as a percentage: 65.7%."""
    from babel.numbers import format_percent

    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return format_percent(share, format=pattern, locale=_active.get())


def compact(value: float) -> str:
    """A large count in words to three figures: 1.23 trillion, 950 million (en); 1.23兆, 9.5億 (ja)."""
    from babel.numbers import format_compact_decimal

    if value < 1000:
        return number(value)
    rounded = round(value, 2 - math.floor(math.log10(value)))
    return format_compact_decimal(rounded, format_type="long", locale=_active.get(), fraction_digits=2)


def date(day: dt.date) -> str:
    """A date as the active locale writes it in full: October 1, 2026; 2026年10月1日."""
    from babel.dates import format_date

    return format_date(day, format="long", locale=_active.get())
