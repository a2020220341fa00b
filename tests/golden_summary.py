"""Golden summaries of the bundled scenarios.

`python tests/golden_summary.py` rewrites tests/golden/*.json; review the diff before committing it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from simulator.analysis.run import run
from simulator.scenario import load_scenario

GOLDEN = Path(__file__).resolve().parent / "golden"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers import SCENARIOS  # noqa: E402


def summary(path: Path) -> dict:
    r = run(load_scenario(path))
    return {
        "cheapest_option": r.cheapest_option,
        "cheapest_compliant_option": r.cheapest_compliant_option,
        "cost_of_privacy_usd": r.cost_of_privacy_usd,
        "tokens_per_month": r.tokens_per_month,
        "options": {
            o.name: {
                "total_cost_usd": o.total_cost_usd,
                "feasible": o.feasible,
                "gpus_peak": o.gpus_peak,
                "api_share": o.api_share,
                "privacy_score": o.privacy_score,
                "compliant": o.compliant,
            }
            for o in r.options
        },
        "break_even": {
            b.option: {"versus": b.versus, "scale": b.scale, "payback_month": b.payback_month} for b in r.break_even
        },
    }


if __name__ == "__main__":
    GOLDEN.mkdir(exist_ok=True)
    for path in SCENARIOS:
        (GOLDEN / f"{path.stem}.json").write_text(json.dumps(summary(path), indent=2, sort_keys=True) + "\n")
        print(f"wrote {path.stem}")
