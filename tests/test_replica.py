"""The event-skipping replica against the per-step reference, and against closed forms."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_replica import requests, simulate

from simulator.engine import fleet, replica
from simulator.engine.fleet import Autoscale, FleetSettings, Overflow, simulate_fleet
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
# Weight reads and FLOPs under a smooth maximum, KV reads and the mean sequence's on top, and every engine term.
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
    b_scan_s=3e-6,
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


def play_every_fleet_path() -> dict[str, np.ndarray]:
    """Each request's times and each run's totals on routed fleets (chunked prefill, a hybrid's
    overflow, an autoscaler) and on one replica, for a load that queues."""
    rng = np.random.default_rng(11)
    n = 3000
    arrivals = np.cumsum(rng.exponential(1 / 60, n))
    prompts = rng.integers(50, 3000, n)
    cached = (prompts * rng.random(n) * 0.5).astype(np.int64)
    outputs = rng.integers(1, 400, n)
    may_leave = rng.random(n) < 0.7
    autoscale = Autoscale(1, 8, 20.0, 2.0, 0.7, 0.05, 0.4)
    out = {}
    for name, fleet_settings, overflow in (
        ("routed", FleetSettings(4, "chunked_prefill", 64, 2048), None),
        ("overflow", FleetSettings(3, "chunked_prefill", 32, 1024), Overflow(2.0, 0.5, may_leave)),
        ("autoscaled", FleetSettings(2, "prefill_first", 32, 2048, autoscale), None),
        ("one", FleetSettings(1, "prefill_first", 16, 2048), None),
    ):
        r = requests(arrivals, prompts, cached, outputs)
        o = simulate_fleet(OVERLAP, r, np.ones(n, dtype=bool), fleet_settings, float(arrivals[-1]), overflow=overflow)
        out |= {f"{name} first token": r.first_token_s, f"{name} done": r.done_s, f"{name} diverted": o.diverted}
        out[f"{name} totals"] = np.array([o.replica_seconds, o.waiting_requests_mean, o.replicas_max, o.replicas_end])
    return out


AS_PYTHON = """
import importlib.util, sys
from pathlib import Path
import numpy as np
import simulator.engine
here = Path(simulator.engine.__path__[0])
for name in ("replica", "fleet"):  # from their source, whatever is compiled beside them
    spec = importlib.util.spec_from_file_location(f"simulator.engine.{name}", here / f"{name}.py")
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
from test_replica import play_every_fleet_path
np.savez(sys.argv[1], **play_every_fleet_path())
"""


@pytest.mark.skipif(replica.__file__.endswith(".py"), reason="the engine runs as Python: nothing to compare")
def test_the_compiled_engine_gives_the_python_sources_times_bit_for_bit(tmp_path: Path) -> None:
    """A machine with a C compiler and one without give the same answers."""
    compiled = play_every_fleet_path()
    assert compiled["overflow diverted"].any() and compiled["autoscaled totals"][2] > 2  # the rules acted
    saved = tmp_path / "python.npz"
    here = Path(__file__).parent
    subprocess.run([sys.executable, "-c", AS_PYTHON, str(saved)], cwd=here, check=True)
    with np.load(saved) as python:
        assert python["one totals"][0] > 0 and sorted(python.files) == sorted(compiled)
        for name, values in compiled.items():
            assert np.array_equal(values, python[name], equal_nan=True), name
