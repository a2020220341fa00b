"""Languages: a complete Japanese catalogue, the language chosen as gettext would, locale numbers, and
a PDF whose text layer is Japanese."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from simulator import i18n
from simulator.errors import InputError
from simulator.report import style
from simulator.report.data import gather
from simulator.report.write import write
from simulator.scenario import load_scenario

from helpers import ROOT

PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _can_print_japanese() -> bool:
    tools = all(shutil.which(t) for t in ("chromium", "pdftotext", "fc-list", "fc-match"))
    return tools and bool(subprocess.run(["fc-list", ":lang=ja"], capture_output=True).stdout)


# CI (RENT_OR_OWN_REQUIRE_BROWSER) fails rather than skips what it cannot print.
needs_cjk_pdf = pytest.mark.skipif(
    not os.environ.get("RENT_OR_OWN_REQUIRE_BROWSER") and not _can_print_japanese(),
    reason="needs Debian's chromium, poppler-utils and fonts-noto-cjk",
)


def extracted() -> dict[str, str | None]:
    """Every message marked in the code and templates, as `pybabel extract -F babel.cfg` finds them
    (a plural message maps its singular to its plural)."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: dict[str, str | None] = {}
    for _path, _line, message, _comments, _context in extract_from_dir(ROOT, method_map, options_map):
        if isinstance(message, tuple):
            found[message[0]] = message[1]
        else:
            found[message] = None
    return found


def test_the_japanese_catalogue_translates_every_message_and_nothing_else() -> None:
    with open(i18n.CATALOGUES / "ja" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po", "rb") as f:
        catalogue = read_po(f, locale="ja")
    marked = extracted()
    assert len(marked) > 200  # the dashboard, the reports, the command line and the core's reasons
    entries = {m.id[0] if isinstance(m.id, tuple) else m.id: m for m in catalogue if m.id}
    assert sorted(set(marked) - set(entries)) == [], "marked in the code, missing from the catalogue"
    assert sorted(set(entries) - set(marked)) == [], "in the catalogue, no longer in the code"
    for msgid, plural in marked.items():
        entry = entries[msgid]
        assert not entry.fuzzy, msgid
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert isinstance(entry.id, tuple) == (plural is not None), f"plural form differs: {msgid!r}"
        for text in strings:
            assert text.strip(), f"untranslated: {msgid!r}"
            # A placeholder lost or renamed would raise KeyError, or drop a number, where it is shown.
            wanted = set(PLACEHOLDER.findall(msgid)) | set(PLACEHOLDER.findall(plural or ""))
            assert set(PLACEHOLDER.findall(text)) == wanted, f"placeholders differ: {msgid!r} -> {text!r}"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "ja_JP.UTF-8"}, "ja"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "ja_JP.UTF-8"}, "ja"),  # LC_ALL outranks LANG
        ({"LC_ALL": "C", "LANG": "ja_JP.UTF-8"}, "en"),
        ({"LANGUAGE": "fr:ja", "LANG": "en_US.UTF-8"}, "ja"),  # the first of LANGUAGE's list we have
        ({"LANGUAGE": "ja", "LC_ALL": "C"}, "en"),
    ],
)
def test_the_language_is_read_from_the_environment_as_gettext_reads_it(environ: dict, expected: str) -> None:
    assert i18n.from_environment(environ) == expected


def test_an_unknown_language_is_one_line_listing_the_ones_there_are() -> None:
    assert i18n.parse("ja_JP") == "ja" and i18n.parse("EN") == "en"
    with pytest.raises(InputError) as e:
        i18n.parse("klingon")
    assert str(e.value) == "--lang: unknown language 'klingon' (choose one of en, ja)"


def test_the_language_of_a_block_is_restored_after_it() -> None:
    assert i18n.language() == "en"
    with i18n.using("ja"):
        assert i18n.language() == "ja"
        assert i18n._("Options") != "Options"
    assert i18n.language() == "en" and i18n._("Options") == "Options"


def test_numbers_and_dates_follow_the_locale() -> None:
    # CLDR's long compact forms: English groups by thousands, Japanese by 10^4 (万) and 10^8 (億).
    assert [i18n.compact(n) for n in (1.234e12, 78.2e9, 950e6, 12_345, 640)] == [
        "1.23 trillion",
        "78.2 billion",
        "950 million",
        "12.3 thousand",
        "640",
    ]
    with i18n.using("ja"):
        assert [i18n.compact(n) for n in (1.234e12, 78.2e9, 950e6, 12_345, 640)] == [
            "1.23兆",
            "782億",
            "9.5億",
            "1.23万",
            "640",
        ]
        assert i18n.date(dt.date(2026, 10, 1)) == "2026年10月1日"
        assert i18n.number(1_234_567.891, 2) == "1,234,567.89"
    assert i18n.date(dt.date(2026, 10, 1)) == "October 1, 2026"
    assert i18n.percent(0.657, 1) == "65.7%"


@needs_cjk_pdf
def test_a_japanese_pdf_has_a_japanese_text_layer_printed_in_a_cjk_font(tmp_path: Path) -> None:
    scenario = ROOT / "scenarios" / "regulated-rag.yaml"
    with i18n.using("ja"):
        data = gather(load_scenario(scenario), str(scenario), "fluid")
        (pdf,) = [p for p in write(data, tmp_path, ["pdf"], "r") if p.suffix == ".pdf"]
        headings = [i18n._(h) for h in ("Recommendation", "Options", "Assumptions")]
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for heading in headings:
        assert JAPANESE.search(heading) and heading in text, heading
    assert len(JAPANESE.findall(text)) > 500
    # Chromium embeds what it draws as unnamed Type 3 fonts, so the font is checked where it is chosen:
    # the page names Noto Sans CJK JP, and fontconfig finds it rather than a substitute.
    assert '"Noto Sans CJK JP"' in style.FONT_FAMILY
    found = subprocess.run(["fc-match", "-f", "%{family}", "Noto Sans CJK JP"], capture_output=True, text=True)
    assert "Noto Sans CJK JP" in found.stdout, found.stdout


def test_a_language_asked_before_it_can_be_refused_falls_back_to_the_environment() -> None:
    assert i18n.asked_or_environment("en-GB") == "en"
    with pytest.MonkeyPatch.context() as m:
        m.setenv("LANG", "ja_JP.UTF-8")
        assert [i18n.asked_or_environment(a) for a in (None, "", "klingon", "en")] == ["ja", "ja", "ja", "en"]
