"""The `rent-or-own` command: a thin shell over the core (`simulator.analysis`, `report`, `probe`).

Exit codes: 0 success, 2 bad input (one line on stderr: `file: field: problem (fix)`), 70 an internal
error (one line to report, never a result with a non-finite number in it), 130 stopped by Ctrl-C (one
line; every file is written atomically, so what was written is whole). The probes catch the signal
themselves and keep the points they measured.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from simulator.cli.parser import build_parser
from simulator.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, InputError, InternalError


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except InputError as e:
        print(str(e), file=sys.stderr)
        return EXIT_BAD_INPUT
    except InternalError as e:
        print(str(e), file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        print("rent-or-own: stopped by Ctrl-C; the files already written are whole", file=sys.stderr)
        return EXIT_INTERRUPTED


def entry() -> None:
    sys.exit(main())
