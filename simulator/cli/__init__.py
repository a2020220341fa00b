"""The `rent-or-own` command: a thin shell over the core (`simulator.analysis`, `report`, `probe`).

Exit codes: 0 success, 2 bad input (one line on stderr: `file: field: problem (fix)`), 70 an internal
error (one line to report, never a result with a non-finite number in it), 130 stopped by Ctrl-C (one
line; every file is written atomically, so what was written is whole). The probes catch the signal
themselves and keep the points they measured.

Output is in the language `--lang` names, else the environment's (`LANGUAGE`, `LC_ALL`, `LANG`); error
lines stay English. argparse's own words ("usage:", "options:") come from Python's catalogue.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from simulator import i18n
from simulator.cli.parser import asked_language, build_parser
from simulator.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, InputError, InternalError
from simulator.i18n import _


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    with i18n.using(asked_language(argv)):  # the help texts are translated as the parser is built
        args = build_parser().parse_args(argv)
    try:
        language = i18n.parse(args.lang) if "lang" in args else i18n.from_environment()
    except InputError as e:
        print(str(e), file=sys.stderr)
        return EXIT_BAD_INPUT
    with i18n.using(language):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args))
    except InputError as e:
        print(str(e), file=sys.stderr)
        return EXIT_BAD_INPUT
    except InternalError as e:
        print(str(e), file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        print(_("rent-or-own: stopped by Ctrl-C; the files already written are whole"), file=sys.stderr)
        return EXIT_INTERRUPTED


def entry() -> None:
    sys.exit(main())
