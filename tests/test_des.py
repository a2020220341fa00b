"""The discrete-event engine against queueing theory, published measurements and itself."""

from __future__ import annotations

import itertools
import math

import ciw
import numpy as np
import pytest
from scipy import stats

from simulator import catalog, units
from simulator.engine.fleet import FleetSettings, saturation_tok_per_s, simulate_fleet
from simulator.engine.latency import weighted_percentiles
from simulator.engine.plan import step_for
from simulator.engine.replica import Replica, Requests
from simulator.perf.serving import serving
from simulator.perf.step import StepModel, roofline
from simulator.scenario import Scenario
from simulator.workload import arrivals_at, generate_frame, hour_of_week_shape

from helpers import BASE, make

TOKEN_S = 1e-3
MEAN_STEPS = 1000
# Decode-only jobs: zero-cost prefill, a constant 1 ms per decode step, one request per replica.
# With a geometric number of steps the service time is exponential with mean 1 s (to 0.1%).
EXP_STEP = StepModel(
    b0_s=0.0,
    b_experts_s=0.0,
    expert_share=0.0,
    b_prefill_s=0.0,
    b_attn_s=0.0,
    b_decode_s=TOKEN_S,
    b_kv_s=0.0,
    kv_capacity_tokens=1e12,
    gpus_per_replica=1,
    source="test",
)


def erlang_c(c: int, offered: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load a = lambda/mu (Erlang C)."""
    top = offered**c / math.factorial(c) * c / (c - offered)
    return top / (sum(offered**k / math.factorial(k) for k in range(c)) + top)


def one_at_a_time(arrivals: np.ndarray, steps: np.ndarray, replicas: int) -> np.ndarray:
    """Queueing delay of each request on `replicas` batch-of-one servers (SimPy fleet)."""
    n = len(arrivals)
    r = Requests(arrivals, np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64), steps + 1)
    simulate_fleet(
        EXP_STEP,
        r,
        np.ones(n, dtype=bool),
        FleetSettings(replicas, "prefill_first", 1, 2048),
        end_s=float(arrivals[-1]),
    )
    return r.first_token_s - arrivals


def replications(c: int, rho: float, reps: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    waits, waited = [], []
    for k in range(reps):
        rng = np.random.default_rng([seed, k])
        arrivals = np.cumsum(rng.exponential(1 / (rho * c), n))
        wait = one_at_a_time(arrivals, rng.geometric(1 / MEAN_STEPS, n), c)[n // 10 :]  # drop the warm-up
        waits.append(wait.mean())
        waited.append((wait > 1e-12).mean())
    return np.array(waits), np.array(waited)


@pytest.mark.slow
@pytest.mark.parametrize(("c", "rho"), [(1, 0.5), (2, 0.8), (4, 0.9)])
def test_batch_of_one_matches_erlang_c(c: int, rho: float) -> None:
    waits, waited = replications(c, rho, reps=20, n=8000, seed=c)
    service_s = MEAN_STEPS * TOKEN_S
    lam = rho * c / service_s
    p_wait = erlang_c(c, lam * service_s)
    mean_wait = p_wait / (c / service_s - lam)
    # Within 3 standard errors of the replications' mean, plus 2% for the geometric service's
    # discreteness and finite-run bias at heavy load.
    for observed, expected in ((waits, mean_wait), (waited, p_wait)):
        se = observed.std(ddof=1) / math.sqrt(len(observed))
        assert abs(observed.mean() - expected) <= 3 * se + 0.02 * expected, (c, rho, observed.mean(), expected, se)


@pytest.mark.slow
def test_batch_of_one_agrees_with_ciw() -> None:
    c, rho, reps, n = 2, 0.8, 10, 6000
    ours, _ = replications(c, rho, reps, n, seed=99)
    theirs = []
    for k in range(reps):
        ciw.seed(k)
        network = ciw.create_network(
            arrival_distributions=[ciw.dists.Exponential(rate=rho * c)],
            service_distributions=[ciw.dists.Exponential(rate=1.0)],
            number_of_servers=[c],
        )
        sim = ciw.Simulation(network)
        sim.simulate_until_max_customers(n, method="Finish")
        records = sorted(sim.get_all_records(), key=lambda x: x.arrival_date)[n // 10 :]
        theirs.append(np.mean([x.waiting_time for x in records]))
    theirs = np.array(theirs)
    se = math.sqrt(ours.var(ddof=1) / reps + theirs.var(ddof=1) / reps)
    assert abs(ours.mean() - theirs.mean()) <= 3 * se, (ours.mean(), theirs.mean(), se)


@pytest.mark.parametrize("service", ["deterministic", "uniform"])
def test_single_replica_matches_pollaczek_khinchine(service: str) -> None:
    rho, reps, n = 0.7, 10, 8000
    means = []
    for k in range(reps):
        rng = np.random.default_rng([7, k])
        steps = (
            np.full(n, MEAN_STEPS)
            if service == "deterministic"
            else rng.integers(MEAN_STEPS // 2, 3 * MEAN_STEPS // 2 + 1, n)
        )
        arrivals = np.cumsum(rng.exponential(1 / rho, n))
        means.append(one_at_a_time(arrivals, steps, 1)[n // 10 :].mean())
    s = np.arange(MEAN_STEPS // 2, 3 * MEAN_STEPS // 2 + 1) * TOKEN_S
    second_moment = 1.0 if service == "deterministic" else float((s**2).mean())
    expected = rho * second_moment / (2 * (1 - rho))  # lambda = rho with E[S] = 1 s
    observed = np.array(means)
    se = observed.std(ddof=1) / math.sqrt(reps)
    assert abs(observed.mean() - expected) <= 3 * se + 0.02 * expected, (service, observed.mean(), expected)


def test_littles_law_on_the_simulated_queue() -> None:
    rng = np.random.default_rng(3)
    n, lam = 20000, 0.8
    arrivals = np.cumsum(rng.exponential(1 / lam, n))
    steps = rng.geometric(1 / MEAN_STEPS, n)
    r = Requests(arrivals, np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64), steps + 1)
    outcome = simulate_fleet(
        EXP_STEP,
        r,
        np.ones(n, dtype=bool),
        FleetSettings(1, "prefill_first", 1, 2048, control_interval_s=0.25),
        end_s=float(arrivals[-1]),
    )
    wait = r.first_token_s - arrivals
    # The fleet samples the waiting line every tick; Little: L_q = lambda * W_q.
    expected = n / arrivals[-1] * wait.mean()
    assert outcome.waiting_requests_mean == pytest.approx(expected, rel=0.03), (outcome.waiting_requests_mean, expected)


def test_poisson_interarrival_mean_and_hourly_counts_follow_the_profile() -> None:
    s = make(workload={"daily_profile": "business_hours", "weekly_weights": [2, 2, 2, 2, 2, 1, 1]})
    shape = hour_of_week_shape(s.workload)
    rate = 0.5 * shape  # requests per second in each hour of a week
    rng = np.random.default_rng(11)
    weeks = 4
    arrivals = arrivals_at(np.tile(rate, weeks), units.SECONDS_PER_HOUR, rng)
    counts = np.bincount((arrivals // units.SECONDS_PER_HOUR).astype(int), minlength=168 * weeks)
    expected = np.tile(rate, weeks) * units.SECONDS_PER_HOUR
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert stats.chi2.sf(chi2, len(expected) - 1) > 1e-3, chi2
    flat = arrivals_at(np.full(100, 2.0), 1000.0, np.random.default_rng(12))
    gaps = np.diff(flat)
    assert gaps.mean() == pytest.approx(0.5, abs=3 * gaps.std() / math.sqrt(len(gaps)))


@pytest.mark.parametrize("burstiness", [0.25, 4.0])
def test_bursty_arrivals_keep_the_rate_and_follow_the_profile(burstiness: float) -> None:
    # Gamma gaps in operational time: the hourly counts still follow the rate, the gaps at a flat rate
    # have the Gamma's coefficient of variation 1/sqrt(k) (1 for Poisson).
    flat = arrivals_at(np.full(200, 2.0), 1000.0, np.random.default_rng(13), burstiness)
    gaps = np.diff(flat)
    assert len(flat) == pytest.approx(400_000, rel=0.02)
    assert gaps.std() / gaps.mean() == pytest.approx(1 / math.sqrt(burstiness), rel=0.05)
    shaped = arrivals_at(np.array([1.0, 3.0] * 100), 1000.0, np.random.default_rng(14), burstiness)
    counts = np.bincount((shaped // 1000).astype(int), minlength=200)
    assert counts[1::2].sum() / counts[::2].sum() == pytest.approx(3.0, rel=0.03)


def test_a_class_burstiness_reaches_its_frames() -> None:
    s = make(workload={"classes": [{**BASE["workload"]["classes"][0], "burstiness": 0.25}]})
    frame = generate_frame(s.workload, {"chat": np.array([2.0])}, 20_000, seed=5, key=(0, 0))
    gaps = np.diff(frame.arrival_s)
    assert gaps.std() / gaps.mean() == pytest.approx(2.0, rel=0.1)


def test_generated_frames_are_seeded_and_shared() -> None:
    s = make()
    rates = {"chat": np.array([0.5])}
    a = generate_frame(s.workload, rates, 3600, seed=5, key=(0, 0))
    b = generate_frame(s.workload, rates, 3600, seed=5, key=(0, 0))
    c = generate_frame(s.workload, rates, 3600, seed=6, key=(0, 0))
    np.testing.assert_array_equal(a.arrival_s, b.arrival_s)
    assert len(a) != len(c) or not np.array_equal(a.arrival_s, c.arrival_s)
    assert len(a) == pytest.approx(1800, abs=5 * math.sqrt(1800))


def test_idle_request_ttft_from_the_roofline() -> None:
    option = make(
        options=[
            {
                "name": "own",
                "kind": "self_host",
                "model": "llama-3.1-8b-instruct",
                "gpu": "h100-sxm",
                "procurement": "rent",
            }
        ]
    ).options[0]
    step = step_for(option, 1, None)
    r = Requests(np.array([100.0]), np.array([2000]), np.array([0]), np.array([1]))
    rep = Replica(step, r, "prefill_first", 256, 2048)
    rep.advance_to(100.0)
    rep.submit(0, 100.0)
    rep.run_to_completion()
    # Alone, the prompt's linear FLOPs outlast the weight reads, which they hide but for the smooth
    # maximum's share; attention's pairs come on top.
    linear, attention, k = step.b_prefill_s * 2000, step.b_attn_s * 2000**2 / 2, step.overlap_sharpness
    assert linear > step.b0_s
    expected = step.request_s + step.overhead_s + linear * (1 + (step.b0_s / linear) ** k) ** (1 / k) + attention
    assert r.first_token_s[0] - 100.0 == pytest.approx(expected, rel=1e-12)


def busy_fleet(replicas: int, rate: float, seed: int = 1) -> tuple[Requests, float]:
    option = make(
        options=[
            {"name": "own", "kind": "self_host", "model": "llama-3.1-8b-instruct", "gpu": "l40s", "procurement": "rent"}
        ]
    ).options[0]
    step = step_for(option, 1, None)
    rng = np.random.default_rng(seed)
    n = int(rate * 1200)
    arrivals = np.sort(rng.uniform(0, 1200, n))
    r = Requests(arrivals, rng.integers(200, 2000, n), np.zeros(n, dtype=np.int64), rng.integers(20, 400, n))
    outcome = simulate_fleet(
        step, r, np.ones(n, dtype=bool), FleetSettings(replicas, "chunked_prefill", 256, 2048), end_s=1200.0
    )
    throughput = float(r.output_tokens.sum()) / 1200.0
    return r, throughput / (outcome.replica_seconds / 1200.0 * saturation_tok_per_s(step, 256, 1300.0))


def test_more_replicas_never_raise_p95_ttft() -> None:
    p95 = []
    for replicas in (1, 2, 3, 4):
        r, _ = busy_fleet(replicas, rate=4.0)
        p95.append(float(np.percentile(r.first_token_s - r.arrival_s, 95)))
    assert all(b <= a * 1.0001 for a, b in itertools.pairwise(p95)), p95


def test_a_higher_rate_never_lowers_utilisation() -> None:
    utilisation = [busy_fleet(2, rate)[1] for rate in (0.5, 1, 2, 4)]
    assert utilisation == sorted(utilisation), utilisation
    assert 0 < utilisation[0] < utilisation[-1] <= 1.0


# Llama 3.1 8B at fp8 on rented L4s, one GPU a replica: many replicas for a modest load.
L4_RENTED = {
    "name": "own",
    "kind": "self_host",
    "model": "llama-3.1-8b-instruct",
    "gpu": "l4",
    "precision": "fp8",
    "procurement": "rent",
    "gpus_per_replica": 1,
}


def month_scenario():
    classes = [
        {
            "name": "chat",
            "requests_per_day": 20000,
            "input_tokens": {"kind": "lognormal", "mean": 1000, "p95": 3000},
            "output_tokens": {"kind": "lognormal", "mean": 1500, "p95": 4000},
            "latency": "interactive",
        }
    ]
    options = [{**L4_RENTED, "rent": {"startup_s": 120}}]
    return make(
        workload={"classes": classes, "daily_profile": "business_hours"},
        options=options,
        economics={"horizon_months": 12},
        simulation={"engine": "des", "load_bins": 4, "window_minutes": 20, "warmup_minutes": 10, "sampled_months": 1},
    )


def whole_month(s: Scenario) -> tuple[float, float]:
    """GPU-hours and p95 TTFT (ms) of the scenario's first month played as one frame, hour by hour,
    through the engine's own window code, with the same autoscaler."""
    from simulator.engine.des import DesEngine, Served
    from simulator.engine.latency import IN_HOUSE

    option = s.option("own")
    engine = DesEngine(s, {})
    shape = engine.fluid.rates["chat"][0]
    hours = int(units.HOURS_PER_MONTH)
    frame = generate_frame(
        s.workload,
        {"chat": np.array([shape[h % 168] for h in range(hours)])},
        units.SECONDS_PER_HOUR,
        seed=77 + s.seed,
        key=(99,),
    )
    engine.warmup_s, engine.window_s = 0.0, hours * units.SECONDS_PER_HOUR
    plan = engine.fluid.planner.plan(option, ["chat"])  # autoscaled, as the windows are
    served = Served(None, option, None, step_for(option, 1, None), np.ones(1, dtype=bool), plan)
    full = engine._simulate(frame, served, 1, np.full(len(frame), IN_HOUSE, dtype=np.int8), 1.0)
    gpu_hours = full.gpu_seconds / units.SECONDS_PER_HOUR * units.HOURS_PER_MONTH / hours
    return gpu_hours, units.seconds_to_ms(float(np.percentile(full.ttft_s, 95)))


@pytest.mark.slow
def test_representative_windows_match_a_full_month() -> None:
    # An autoscaled fleet's p95 TTFT rests on a few scale-up episodes, so one draw of the windows
    # spreads about +-20% around the month's; the estimator is judged over three seeds, as the mean
    # of its draws against the mean of the months played hour by hour. Each window starts its level
    # with the replicas that level needs, while the month also waits for replicas on the morning
    # ramp: the windows' p95 reads about 8% under the month's, hence 15%.
    from simulator.economics.costs import Economics
    from simulator.engine.des import DesEngine

    window_p95, full_p95 = [], []
    window_hours, full_hours, window_cost, full_cost = [], [], [], []
    for seed in (0, 1, 2):
        s = month_scenario().model_copy(update={"seed": seed})
        windows = DesEngine(s, {}).option_usage(s.option("own"))
        full_gpu_hours, p95_ms = whole_month(s)
        full_p95.append(p95_ms)
        window_p95.append(windows.latency["chat"].ttft_p95_ms)
        window_hours.append(windows.fleet.gpu_hours[0])
        full_hours.append(full_gpu_hours)
        # The option's cost as reported (GPUs, staff, set-up) over the horizon, from either month.
        economics = Economics(s)
        window_cost.append(economics.costs(windows).total())
        windows.fleet.gpu_hours = np.full(12, full_gpu_hours)
        full_cost.append(economics.costs(windows).total())
    assert np.mean(window_p95) == pytest.approx(np.mean(full_p95), rel=0.15), (window_p95, full_p95)
    # A window starts its level at the replicas the utilisation target plans, which the autoscaler
    # keeps; the month adds replicas only as queues build, and one draw of it may hold a replica
    # fewer through the busiest level (4 planned, 3 enough): 1-16% of its GPU-hours by seed, about
    # 7% on average. Staff and set-up are most of the cost, so the GPU-hours' gap is under 1% of it.
    assert np.mean(window_hours) == pytest.approx(np.mean(full_hours), rel=0.10), (window_hours, full_hours)
    assert np.mean(window_cost) == pytest.approx(np.mean(full_cost), rel=0.01), (window_cost, full_cost)


@pytest.mark.slow
def test_an_exact_month_is_the_month_played_whole() -> None:
    # Exact mode plays the month a day at a time, each day warmed up by the hour before it on the
    # fleet the day before ended with, keeping a sample of 5,000 of each day's 20,000 outcomes; the
    # same month played as one frame from start to end agrees on GPU-hours and p95 TTFT within 3%.
    from simulator.engine.des import DesEngine

    s = month_scenario()
    exact = s.model_copy(
        update={"simulation": s.simulation.model_copy(update={"mode": "exact", "max_window_requests": 5_000})}
    )
    usage = DesEngine(exact, {}).option_usage(exact.option("own"))
    gpu_hours, p95_ms = whole_month(s)
    assert usage.fleet is not None and usage.latency is not None
    assert usage.fleet.gpu_hours[0] == pytest.approx(gpu_hours, rel=0.03)
    chat = usage.latency["chat"]
    assert chat.ttft_p95_ms == pytest.approx(p95_ms, rel=0.03)
    # 150,000 kept outcomes: the p95's sampling error is a few milliseconds, not the windows' tens.
    assert 0 < chat.error_95["ttft_p95_ms"] < 10.0


# One month, two load levels, one 7-minute window each: a DES run of a large load in seconds.
SHORT_DES = {"engine": "des", "load_bins": 2, "sampled_months": 1, "window_minutes": 5, "warmup_minutes": 2}


def large_fleet(max_simulated_replicas: int) -> Scenario:
    """5M requests a day on L4s: about 70 replicas at the business-hours peak."""
    own = {**L4_RENTED, "name": "reserved", "rent": {"tier": "reserved_1y"}}
    chat = {
        "name": "chat",
        "requests_per_day": 5_000_000,
        "input_tokens": {"kind": "lognormal", "mean": 800, "p95": 2400},
        "output_tokens": {"kind": "lognormal", "mean": 250, "p95": 700},
        "latency": "interactive",
    }
    return make(
        workload={"classes": [chat], "daily_profile": "business_hours"},
        options=[own, {**own, "name": "on-demand", "rent": {"tier": "on_demand", "startup_s": 120}}],
        economics={"horizon_months": 1},
        simulation={**SHORT_DES, "max_simulated_replicas": max_simulated_replicas},
    )


@pytest.mark.slow
def test_a_slice_of_a_large_fleet_stands_for_the_whole() -> None:
    from simulator.engine.des import MIN_SLICE_REQUESTS, DesEngine

    whole, sliced = DesEngine(large_fleet(10_000), {}), DesEngine(large_fleet(16), {})
    for option in whole.scenario.options:
        a, b = whole.option_usage(option), sliced.option_usage(option)
        assert a.fleet is not None and b.fleet is not None and a.fleet.replicas_peak[0] > 60
        assert b.fleet.gpu_hours[0] == pytest.approx(a.fleet.gpu_hours[0], rel=0.02)
        assert b.utilisation == pytest.approx(a.utilisation, rel=0.01)
        assert b.slo_attainment == pytest.approx(a.slo_attainment, abs=0.03)
        x, y = a.latency["chat"], b.latency["chat"]
        for field in ("ttft_p50_ms", "ttft_p95_ms", "tpot_p50_ms", "tpot_p95_ms", "e2e_p95_ms"):
            assert getattr(y, field) == pytest.approx(getattr(x, field), rel=0.05), (option.name, field)
    # Each window was simulated on a slice of its requests, of at least MIN_SLICE_REQUESTS.
    assert not whole._slices and sliced._slices
    for (month, b, _), frame in sliced._slices.items():
        assert MIN_SLICE_REQUESTS <= len(frame) < 0.5 * len(sliced.frame(month, b))


def test_token_bucket_queues_at_the_limit() -> None:
    from simulator.engine.api_path import token_bucket

    # 20 requests/s for 180 s against 600 a minute: the full bucket covers the first 600, then
    # requests leave at the refill rate of 10/s, in order, the last one at (3600 - 600) / 10 = 300 s.
    arrivals = np.arange(3600) * 0.05
    out = token_bucket(arrivals, np.full(3600, 100), rpm=600, tpm=None, reject=False)
    assert not out.rejected.any()
    assert np.all(np.diff(out.start_s) >= -1e-12) and np.all(out.start_s >= arrivals)
    assert out.start_s[-1] == pytest.approx(300.0, abs=0.1)
    later = out.start_s > 90
    rate = (later.sum() - 1) / (out.start_s[later][-1] - out.start_s[later][0])
    assert rate == pytest.approx(10.0, rel=1e-6)


def test_a_slice_of_the_traffic_meets_the_same_slice_of_the_limits() -> None:
    from simulator.engine.api_path import token_bucket

    # Every other request of the stream above against half of each bucket: 300 go at once, the
    # rest at 5/s, the last at (1800 - 300) / 5 = 300 s, as in the whole. A request larger than a
    # minute of the whole token limit is dropped; one larger only than the slice's share is not.
    arrivals = np.arange(3600)[::2] * 0.05
    out = token_bucket(arrivals, np.full(1800, 100), rpm=600, tpm=None, reject=False, share=0.5)
    assert not out.rejected.any() and out.start_s[-1] == pytest.approx(300.0, abs=0.1)
    big = token_bucket(np.array([0.0, 1.0]), np.array([800, 1200]), rpm=None, tpm=1000, reject=False, share=0.5)
    assert big.rejected.tolist() == [False, True]


def test_token_bucket_rejects_beyond_the_limit() -> None:
    from simulator.engine.api_path import token_bucket

    arrivals = np.arange(3600) * (60 / 3600)  # 60 requests/s for a minute, limit 20 a second
    out = token_bucket(arrivals, np.full(3600, 10), rpm=1200, tpm=None, reject=True)
    assert out.rejected.sum() == pytest.approx(3600 - 1200 - 1200, abs=5)  # full bucket + one minute of refill
    too_big = token_bucket(np.array([0.0]), np.array([2_000_000]), rpm=None, tpm=1_000_000, reject=False)
    assert too_big.rejected.all()


@pytest.mark.parametrize("ttft_trigger_s", [None, 0.5])
def test_autoscaler_adds_replicas_on_queue_or_predicted_ttft(ttft_trigger_s: float | None) -> None:
    from simulator.engine.fleet import Autoscale

    option = make(
        options=[
            {"name": "own", "kind": "self_host", "model": "llama-3.1-8b-instruct", "gpu": "l40s", "procurement": "rent"}
        ]
    ).options[0]
    step = step_for(option, 1, None)
    rng = np.random.default_rng(4)
    n = 6000
    arrivals = np.sort(rng.uniform(0, 1200, n))  # 5 requests/s, several replicas' worth
    r = Requests(arrivals, np.full(n, 3000), np.zeros(n, dtype=np.int64), np.full(n, 100))
    # A queue trigger no burst reaches: only the TTFT trigger (when set) can add replicas.
    auto = Autoscale(
        1,
        8,
        startup_s=60,
        scale_up_queue_per_replica=1e9,
        target_utilisation=0.7,
        replica_s_per_request=0.5,
        scale_up_ttft_s=ttft_trigger_s,
    )
    outcome = simulate_fleet(
        step, r, np.ones(n, dtype=bool), FleetSettings(1, "chunked_prefill", 256, 2048, autoscale=auto), end_s=1200.0
    )
    ttft_p95 = float(np.percentile(r.first_token_s - r.arrival_s, 95))
    if ttft_trigger_s is None:
        assert outcome.replicas_max == 1
    else:
        assert outcome.replicas_max > 1 and ttft_p95 < 60, (outcome.replicas_max, ttft_p95)


def test_roofline_is_within_a_factor_of_a_published_serving_result() -> None:
    # TensorRT-LLM v0.5.0 on one H100 SXM at FP8, GPT-J 6B, 64 concurrent requests of 128 input and
    # 128 output tokens: 10,907 output tokens/s with a first-token latency of 102 ms
    # (NVIDIA/TensorRT-LLM docs/source/blogs/H100vsA100.md). Stated factor: 2 either way.
    g = catalog.gpu("h100-sxm")
    step = roofline(catalog.model("gpt-j-6b"), g, "fp8", 1, serving(g, "fp8", "tensorrt-llm"))
    n = 64
    r = Requests.alike(np.zeros(n), 128, 128)
    rep = Replica(step, r, "prefill_first", 64, 2048)
    for i in range(n):
        rep.submit(i, 0.0)
    rep.run_to_completion()
    throughput = n * 128 / float(r.done_s.max())
    first_token_ms = units.seconds_to_ms(float(r.first_token_s.max()))
    assert 10_907 / 2 <= throughput <= 10_907 * 2, throughput
    assert 102 / 2 <= first_token_ms <= 102 * 2, first_token_ms


def test_rent_and_buy_of_one_fleet_see_the_same_windows_in_any_order() -> None:
    # Two options that differ only in how the GPUs are paid for serve every window alike, and the
    # window they share is played once: simulating them in either order gives the same numbers.
    from simulator.engine.des import DesEngine

    own = {
        "kind": "self_host",
        "model": "llama-3.1-8b-instruct",
        "gpu": "h100-sxm",
        "gpus_per_replica": 1,
        "min_replicas": 2,
    }
    rent = {**own, "name": "rent", "procurement": "rent", "rent": {"tier": "reserved_1y"}}
    buy = {**own, "name": "buy", "procurement": "buy"}
    scenario = make(options=[rent, buy], simulation={"engine": "des", "sampled_months": 2})
    forward = DesEngine(scenario, {})
    a = [forward.option_usage(scenario.option(n)) for n in ("rent", "buy")]
    backward = DesEngine(scenario, {})
    b = [backward.option_usage(scenario.option(n)) for n in ("buy", "rent")][::-1]
    assert len(forward._fleet_runs) < 2 * len(forward.sampled) * len(forward.bins[0])  # some were shared
    for x, y in zip(a, b, strict=True):
        assert x.latency == y.latency and x.slo_attainment == y.slo_attainment
        assert np.array_equal(x.fleet.gpu_hours, y.fleet.gpu_hours)
    assert a[0].latency == a[1].latency


def test_weighted_percentiles_are_numpys_inverted_cdf_and_weights_repeat_values() -> None:
    rng = np.random.default_rng(5)
    values = rng.lognormal(0, 1, 1001)
    values[::97] = np.nan  # requests without the figure (a single token has no TPOT) are left out
    kept = values[~np.isnan(values)]
    qs = (0.0, 50.0, 95.0, 99.0, 100.0)
    for q, got in zip(qs, weighted_percentiles([(values[:500], 1.0), (values[500:], 1.0)], qs), strict=True):
        assert got == np.percentile(kept, q, method="inverted_cdf")
    # A weight of w is the value w times over.
    groups = [(rng.lognormal(0, 1, 300).round(1), float(w)) for w in (1, 2, 3, 5)]  # rounding makes ties
    every = np.concatenate([np.repeat(v, int(w)) for v, w in groups])
    for q, got in zip(qs, weighted_percentiles(groups, qs), strict=True):
        assert got == np.percentile(every, q, method="inverted_cdf")
    repeated = np.array([1.0, 2.0, 2.0, 2.0, 3.0, 4.0])
    assert weighted_percentiles([(np.array([4.0, 1.0, 3.0]), 1.0), (np.array([2.0]), 3.0)], (50.0, 95.0)) == [
        np.percentile(repeated, 50, method="inverted_cdf"),
        np.percentile(repeated, 95, method="inverted_cdf"),
    ]


def api_at_volume(max_window_requests: int) -> Scenario:
    """5M requests a day to an API: about 24,000 in each 7-minute window."""
    chat = {
        "name": "chat",
        "requests_per_day": 5_000_000,
        "input_tokens": 800,
        "output_tokens": 200,
        "latency": "interactive",
    }
    return make(
        workload={"classes": [chat]},
        economics={"horizon_months": 1},
        simulation={**SHORT_DES, "max_window_requests": max_window_requests},
    )


def test_a_window_plays_at_most_its_request_budget_and_says_how_far_that_may_be_off() -> None:
    from simulator.engine.des import DesEngine
    from simulator.scenario import vary

    whole, sampled = DesEngine(api_at_volume(5_000_000), {}), DesEngine(api_at_volume(2_000), {})
    option = whole.scenario.options[0]
    a, b = whole.option_usage(option), sampled.option_usage(option)
    for key, frame in sampled._frames.items():
        assert len(frame) < 2_200 and len(whole.frame(*key)) > 20_000  # Poisson about 2,000, not 24,000
    for kind, tokens in a.tokens.items():  # the bill rests on the offered load, not on the sample
        np.testing.assert_allclose(b.tokens[kind], tokens, rtol=1e-12)
    # Each figure's 95% interval holds what it estimates: over 20 seeds, the sampled figure and the
    # whole window's lie within the sum of their half-widths at least 17 times (19 expected), and a
    # sample of a twelfth of the requests has the wider interval.
    figures = ("ttft_p50_ms", "ttft_p95_ms", "e2e_p95_ms", "slo_attainment")
    within = dict.fromkeys(figures, 0)
    for seed in range(1, 21):
        runs = [DesEngine(vary(api_at_volume(budget), [("seed", seed)]), {}) for budget in (5_000_000, 2_000)]
        x, y = (e.option_usage(option).latency["chat"] for e in runs)
        for f in figures:
            within[f] += abs(getattr(y, f) - getattr(x, f)) <= y.error_95[f] + x.error_95[f]
            assert y.error_95[f] > x.error_95[f], (seed, f)
    assert min(within.values()) >= 17, within


def test_sampling_errors_by_hand() -> None:
    from simulator.engine.latency import API, WindowResult, effective_count, summarise

    # 1,000 requests, 900 within the interactive targets, equal weights: attainment 0.9 with a 95%
    # half-width of 1.96 sqrt(0.9 x 0.1 / 1000).
    n = 1000
    ttft = np.where(np.arange(n) < 900, 0.1, 10.0)
    window = WindowResult(
        np.zeros(n, dtype=np.int16), np.full(n, API, dtype=np.int8), ttft, np.full(n, 0.01), ttft + 1.0
    )
    classes = api_at_volume(2_000).workload.classes
    summary = summarise(classes, [(window, np.array([1e6]))])[0]["chat"]
    assert summary.slo_attainment == pytest.approx(0.9)
    assert summary.error_95["slo_attainment"] == pytest.approx(1.959964 * math.sqrt(0.9 * 0.1 / n), rel=1e-6)
    # The p50's interval spans ranks 0.5 +- 1.96 sqrt(0.25 / 1000), all at 0.1 s: no width.
    assert summary.error_95["ttft_p50_ms"] == 0.0
    # Halving the weight of half the requests leaves (sum w)^2 / sum w^2 = 750^2 / 625 effective ones.
    assert effective_count(np.where(np.arange(1000) < 500, 1.0, 0.5)) == pytest.approx(750**2 / 625)


def test_the_des_tells_of_each_window_and_of_each_day_of_an_exact_month() -> None:
    from simulator.analysis.run import run

    classes = [{"name": "chat", "requests_per_day": 200, "input_tokens": 200, "output_tokens": 50}]
    simulation = {"engine": "des", "load_bins": 2, "sampled_months": 2, "window_minutes": 5}
    steps: list[str] = []
    run(make(workload={"classes": classes}, simulation=simulation, options=[L4_RENTED]), progress=steps.append)
    windows = [s for s in steps if s.startswith("simulating own: ")]
    assert windows == [f"simulating own: month {m}, load level {b} of 2" for m in (1, 12) for b in (1, 2)]
    steps.clear()
    exact = {**simulation, "mode": "exact", "sampled_months": 1}
    run(make(workload={"classes": classes}, simulation=exact, options=[L4_RENTED]), progress=steps.append)
    days = [s for s in steps if s.startswith("simulating own: ")]
    assert days == [f"simulating own: month 1, day {d} of 31" for d in range(1, 32)]  # 730 hours
