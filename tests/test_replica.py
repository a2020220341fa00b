"""The event-skipping replica against the per-step reference, and against closed forms."""

from __future__ import annotations

import shutil
import sysconfig

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_replica import requests, simulate

from simulator.engine import fleet, replica
from simulator.engine.replica import Replica, series_s, steps_to_cover
from simulator.perf.step import StepModel

STEP = StepModel(
    b0_s=0.008,
    b_experts_s=0.0,
    expert_share=0.0,
    b_prefill_s=3e-5,
    b_attn_s=1e-9,
    b_decode_s=4e-5,
    b_kv_s=7e-8,
    kv_capacity_tokens=60_000,
    gpus_per_replica=1,
    source="test",
)
MOE = StepModel(
    b0_s=0.004,
    b_experts_s=0.02,
    expert_share=0.0625,
    b_prefill_s=2e-5,
    b_attn_s=5e-10,
    b_decode_s=2e-5,
    b_kv_s=5e-8,
    kv_capacity_tokens=30_000,
    gpus_per_replica=2,
    source="test",
)
# Weight reads and FLOPs under a smooth maximum, KV reads on top, and every engine term.
OVERLAP = StepModel(
    b0_s=0.004,
    b_experts_s=0.01,
    expert_share=0.125,
    b_prefill_s=3e-5,
    b_attn_s=1e-9,
    b_decode_s=2e-4,
    b_kv_s=7e-8,
    kv_capacity_tokens=60_000,
    gpus_per_replica=2,
    source="test",
    overhead_s=0.001,
    b_comm_s=2e-6,
    b_seq_s=1e-5,
    request_s=0.003,
    overlap_sharpness=3.0,
)


def skip(step: StepModel, r, policy: str, max_batch: int, chunk: int = 2048) -> None:
    rep = Replica(step, r, policy, max_batch, chunk)
    for i, t in enumerate(r.arrival_s):
        rep.advance_to(t)
        rep.submit(i, t)
    rep.run_to_completion()


@st.composite
def workloads(draw):
    n = draw(st.integers(1, 60))
    gaps = draw(st.lists(st.floats(0, 2.0), min_size=n, max_size=n))
    prompts = draw(st.lists(st.integers(1, 3000), min_size=n, max_size=n))
    cached = [draw(st.integers(0, p - 1)) for p in prompts]
    outputs = draw(st.lists(st.integers(1, 400), min_size=n, max_size=n))
    return np.cumsum(gaps), prompts, cached, outputs


@settings(max_examples=150, deadline=None)
@given(
    workloads(),
    st.sampled_from(["prefill_first", "chunked_prefill"]),
    st.integers(1, 64),
    st.sampled_from([STEP, MOE, OVERLAP]),
    st.sampled_from([256, 2048]),
)
def test_event_skipping_equals_the_per_step_reference(load, policy, max_batch, step, chunk) -> None:
    a, b = requests(*load), requests(*load)
    simulate(step, a, policy, max_batch, chunk)
    skip(step, b, policy, max_batch, chunk)
    np.testing.assert_allclose(b.first_token_s, a.first_token_s, rtol=0, atol=1e-9)
    np.testing.assert_allclose(b.done_s, a.done_s, rtol=0, atol=1e-9)


def test_arrivals_on_a_step_boundary_join_it() -> None:
    # A second request arriving exactly when the first one's prefill step ends is admitted then.
    first = STEP.step_s(100, 100**2 / 2, 0, 0)
    load = ([0.0, first], [100, 100], [0, 0], [5, 5])
    a, b = requests(*load), requests(*load)
    simulate(STEP, a, "prefill_first", 8)
    skip(STEP, b, "prefill_first", 8)
    np.testing.assert_allclose(b.first_token_s, a.first_token_s, atol=1e-12)
    assert b.first_token_s[1] == pytest.approx(2 * first)


def test_idle_request_ttft_is_one_prefill_step() -> None:
    r = requests([5.0], [1500], [0], [1])
    skip(STEP, r, "prefill_first", 8)
    expected = STEP.b0_s + STEP.b_prefill_s * 1500 + STEP.b_attn_s * 1500**2 / 2
    assert r.first_token_s[0] - 5.0 == pytest.approx(expected, rel=1e-12)


def test_lone_decode_time_is_the_arithmetic_series() -> None:
    r = requests([0.0], [1000], [0], [101])
    skip(STEP, r, "prefill_first", 8)
    a = STEP.b0_s + STEP.b_decode_s + STEP.b_kv_s * 1001
    decode = series_s(a, STEP.b_kv_s, 100)
    assert r.done_s[0] - r.first_token_s[0] == pytest.approx(decode, rel=1e-12)


@pytest.mark.parametrize(
    ("a", "c", "span"),
    [(0.01, 0.0, 0.05), (0.01, 1e-5, 0.05), (0.01, 1e-5, 0.0500001), (0.02, 3e-6, 100.0), (1.0, 0.0, 1.0)],
)
def test_steps_to_cover_is_the_least_sufficient_count(a: float, c: float, span: float) -> None:
    n = steps_to_cover(a, c, span)
    assert series_s(a, c, n) >= span and series_s(a, c, n - 1) < span


@pytest.mark.skipif(
    shutil.which((sysconfig.get_config_var("CC") or "cc").split()[0]) is None,
    reason="no C compiler: the engine runs as Python",
)
def test_installing_compiles_the_hot_path() -> None:
    """`pip install` compiles the replica and the fleet with mypyc (setup.py); these tests then test that build."""
    for module in (replica, fleet):
        assert not (module.__file__ or "").endswith(".py"), f"{module.__name__} runs as Python: pip install -e ."
