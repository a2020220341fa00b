"""The calibration set: published serving measurements, each a real configuration of the catalogue."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from simulator import catalog

POINTS = catalog.calibration().points


def test_the_set_covers_what_a_fit_and_its_judgement_need() -> None:
    # At least 40 points on 4 GPU types and 3 catalogue models, one of them a mixture of experts, one
    # configuration tensor-parallel, both 16-bit and FP8.
    assert len(POINTS) >= 40
    assert len({p.gpu for p in POINTS}) >= 4
    shapes = {p.catalogue_model for p in POINTS if p.catalogue_model}
    assert len(shapes) >= 3 and any(catalog.model(m).experts for m in shapes)
    assert any((p.tensor_parallel or 1) > 1 for p in POINTS)
    assert {"fp8"} <= {p.precision for p in POINTS} and {"fp16", "bf16"} & {p.precision for p in POINTS}


def test_every_point_is_a_catalogue_configuration_with_a_measurement_and_a_source() -> None:
    assert len({p.id for p in POINTS}) == len(POINTS)
    for p in POINTS:
        catalog.gpu(p.gpu)
        if p.catalogue_model:
            catalog.model(p.catalogue_model)
        measured = (p.output_tok_per_s, p.ttft_p50_ms, p.tpot_p50_ms, p.itl_p50_ms, p.other_metrics)
        assert any(x is not None for x in measured), p.id
        assert p.source and p.quote and p.as_of <= dt.date(2026, 11, 29), p.id
        if p.tensor_parallel:
            assert p.gpus % p.tensor_parallel == 0, p.id  # whole replicas


def test_each_configuration_keeps_points_to_judge_with() -> None:
    # Each (GPU, model, precision) group is halved between fit and validate, or held apart where its notes say why.
    groups = defaultdict(list)
    for p in POINTS:
        groups[p.gpu, p.catalogue_model or p.model, p.precision].append(p)
    for group, points in groups.items():
        apart = [p for p in points if p.split == "apart"]
        assert all("Held apart" in (p.notes or "") for p in apart), group
        splits = {p.split for p in points if p.split != "apart"}
        assert len(points) - len(apart) < 2 or splits == {"fit", "validate"}, group
    split = [p.split for p in POINTS if p.split != "apart"]
    assert 0.4 < split.count("validate") / len(split) < 0.6
