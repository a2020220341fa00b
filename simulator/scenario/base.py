"""What every scenario section shares: strict fields, attribute docstrings, unique names."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Sensitivity = Literal["public", "internal", "confidential", "regulated"]
SENSITIVITY_LEVELS: tuple[Sensitivity, ...] = ("public", "internal", "confidential", "regulated")


# Upper bounds of fields that count or weigh, far above any real value: finite inputs that cannot
# overflow what is computed from them.
MAX_TOKENS = 10_000_000
MAX_WEIGHT = 1e9
# Classes, options, bursts and uncertain inputs a scenario may list: a scenario is a decision people
# read, and the engines' work grows with each.
MAX_ITEMS = 100


class Section(BaseModel):
    """A YAML section: unknown fields are errors, infinities and NaN are refused, and every field
    documents itself."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def check_unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            plural = what + ("es" if what.endswith("s") else "s")
            raise ValueError(f"two {plural} are named {n!r}; rename one, names must be unique")
        seen.add(n)
