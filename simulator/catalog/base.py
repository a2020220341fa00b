"""What every catalogue file shares: frozen, strict records read from the bundled data folder."""

from __future__ import annotations

from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict


class Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def read(name: str) -> object:
    return yaml.safe_load(resources.files("simulator.catalog").joinpath("data", name).read_text())
