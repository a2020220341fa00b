"""The calibration set: published serving measurements, each a real configuration of the catalogue."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pytest

from simulator import catalog
from simulator.analysis import calibrate

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


def test_a_dataset_draws_lengths_its_sampler_keeps() -> None:
    quantiles = catalog.TokenQuantiles(kind="quantiles", shares=[0, 0.5, 1], tokens=[10, 30, 50])
    assert quantiles.mean() == 30  # halves uniform on 10-30 and 30-50: 20 and 40 on average
    answers = catalog.TokenExponential(kind="exponential", mean_tokens=200, min_tokens=4)

    def dataset(max_total: int | None) -> catalog.CalibrationDataset:
        return catalog.CalibrationDataset(
            input=quantiles,
            output=answers,
            max_total_tokens=max_total,
            source="-",
            as_of=dt.date(2026, 1, 1),
            quote="-",
        )

    n = 200_000
    prompt, output = dataset(None).draw(n, np.random.default_rng(7))
    assert prompt.min() >= 10 and prompt.max() <= 50 and np.median(prompt) == pytest.approx(30, abs=0.5)
    # Answers are 4 + Exp(196): mean 200, P(answer <= 250) = 1 - exp(-246 / 196) (standard error 0.2% at n).
    assert output.min() >= 4 and output.mean() == pytest.approx(200, rel=0.01)
    assert np.mean(output <= 250) == pytest.approx(1 - np.exp(-246.5 / 196), rel=0.01)
    capped = dataset(100).draw(n, np.random.default_rng(7))
    assert (capped[0] + capped[1]).max() <= 100  # a pair over the total is drawn again
    again = dataset(None).draw(n, np.random.default_rng(7))
    assert np.array_equal(prompt, again[0]) and np.array_equal(output, again[1])  # seeded: the same draw


def test_a_run_on_a_dataset_serves_its_rate_times_the_mean_answer() -> None:
    # Below saturation every request is answered as it comes: output tokens per second are the rate
    # times the mean answer drawn (Little's law for the tokens), less the last answers' tail.
    p = next(p for p in POINTS if p.id == "sgl060cmp-sglang-l31-70b-h100x4-tp4-sharegpt-rps4")
    assert p.dataset and p.load.rate_rps and p.load.num_prompts and calibrate.why_left_out(p) is None
    sent = calibrate.requests_of(p)(np.zeros(p.load.num_prompts))
    assert sent.output_tokens.mean() == pytest.approx(calibrate.mean_output_tokens(p), rel=0.05)
    got = calibrate.simulate(p)
    assert got == calibrate.simulate(p)  # the same draw every time
    expected = p.load.rate_rps * sent.output_tokens.mean()
    assert got["output_tok_per_s"] == pytest.approx(expected, rel=0.03)


def test_a_run_on_cached_prompts_computes_only_their_last_partial_blocks() -> None:
    # Prefix caching keeps whole 16-token blocks: a 213-token prompt reads 208 cached tokens and computes 5.
    p = next(p for p in POINTS if p.id == "surajssd-l33-70b-a100-40gb-tp8-bf16-sharegpt-rps16")
    assert p.prompts_cached
    sent = calibrate.requests_of(p)(np.zeros(200))
    assert np.array_equal(sent.cached_tokens, (sent.prompt_tokens - 1) // 16 * 16)
    assert sent.prompt_tokens.mean() == pytest.approx(p.input_tokens_mean, rel=0.1)  # the run's own mean
    uncached = calibrate.simulate(p.model_copy(update={"prompts_cached": False}))
    assert calibrate.simulate(p)["output_tok_per_s"] > uncached["output_tok_per_s"]


def test_a_dataset_sent_all_at_once_is_left_out() -> None:
    # Its end is its longest answers, whose spread no source publishes; the same run at a rate is played.
    at_once = next(p for p in POINTS if p.id == "surajssd-l33-70b-a100-40gb-tp8-bf16-sharegpt-rpsinf")
    assert at_once.dataset and at_once.load.offline
    assert (calibrate.why_left_out(at_once) or "").startswith("every prompt of a dataset at once")
    at_a_rate = next(p for p in POINTS if p.id == "surajssd-l33-70b-a100-40gb-tp8-bf16-sharegpt-rps16")
    assert calibrate.why_left_out(at_a_rate) is None
