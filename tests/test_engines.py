"""Engine profiles and the second step model: each term against a hand computation, the defaults as
each engine's code sets them, and the fit against the calibration set it was fitted on."""

from __future__ import annotations

import dataclasses
import math
import statistics

import numpy as np
import pytest

from simulator import catalog
from simulator.analysis import calibrate
from simulator.analysis.capacity import Arrivals, capacity, closed_loop
from simulator.analysis.run import run
from simulator.cli import main
from simulator.engine.replica import Requests
from simulator.perf.serving import serving
from simulator.perf.step import (
    StepModel,
    allreduce_s_per_token,
    expert_width,
    kv_bytes_per_token,
    roofline,
    smooth_max,
    step_model,
)
from simulator.scenario import load_scenario

from helpers import ROOT

H100, A100, L40S = catalog.gpu("h100-sxm"), catalog.gpu("a100-80gb"), catalog.gpu("l40s")
LLAMA_8B, LLAMA_70B = catalog.model("llama-3.1-8b-instruct"), catalog.model("llama-3.1-70b-instruct")


def test_each_engine_sets_its_limits_by_gpu_as_its_code_does() -> None:
    # vLLM V1's OpenAI server: 1,024 sequences and 8,192 tokens a step on a GPU of 70 GiB or more
    # other than an A100, else 256 and 2,048; SGLang's chunk by memory; llama-server's 4 slots.
    assert (serving(H100, "fp16").max_batch, serving(H100, "fp16").chunk_tokens) == (1024, 8192)
    assert (serving(A100, "fp16").max_batch, serving(A100, "fp16").chunk_tokens) == (256, 2048)
    assert (serving(L40S, "fp16").max_batch, serving(L40S, "fp16").chunk_tokens) == (256, 2048)
    assert serving(L40S, "fp16", "sglang").chunk_tokens == 8192
    assert serving(catalog.gpu("l4"), "fp16", "sglang").chunk_tokens == 2048
    assert serving(catalog.gpu("b200"), "fp16", "sglang").chunk_tokens == 16384
    assert serving(H100, "fp16", "llama.cpp").max_batch == 4
    # TensorRT-LLM's FP8 checkpoints quantize the KV cache too; vLLM keeps it 16-bit unless told.
    assert serving(H100, "fp8", "tensorrt-llm").kv_cache_dtype == "fp8"
    assert serving(H100, "fp8").kv_cache_dtype == "auto"
    assert serving(H100, "fp8", kv_cache_dtype="fp8").kv_cache_dtype == "fp8"


def test_a_batch_given_alone_raises_the_budget_and_a_budget_alone_caps_the_batch() -> None:
    assert (serving(A100, "fp16", max_batch=512).max_batch, serving(A100, "fp16", max_batch=512).chunk_tokens) == (
        512,
        2048,
    )
    raised = serving(A100, "fp16", max_batch=4096)
    assert (raised.max_batch, raised.chunk_tokens) == (4096, 4096)
    capped = serving(H100, "fp16", chunk_tokens=512)
    assert (capped.max_batch, capped.chunk_tokens) == (512, 512)


def test_all_reduce_time_by_hand() -> None:
    # Llama 3.1 70B on two H100s: two ring all-reduces per layer of 8,192 16-bit activations, each
    # GPU sending 2 (2 - 1) / 2 of them over 450 GB/s NVLink.
    per_token = 2 * 80 * (2 * 1 / 2 * 8192 * 2) / 450e9
    assert allreduce_s_per_token(LLAMA_70B, H100, 2) == pytest.approx(per_token, rel=1e-12)
    assert allreduce_s_per_token(LLAMA_70B, H100, 1) == 0.0
    # Four L40S over PCIe Gen4 (32 GB/s each way): 3/2 of the activations per all-reduce.
    assert allreduce_s_per_token(LLAMA_70B, L40S, 4) == pytest.approx(2 * 80 * (1.5 * 8192 * 2) / 32e9, rel=1e-12)
    s = serving(H100, "fp16")
    step = roofline(LLAMA_70B, H100, "fp16", 2, s)
    assert step.overhead_s == pytest.approx(s.step_overhead_s + 2 * 80 * s.allreduce_latency_s, rel=1e-12)


def test_each_running_sequence_costs_the_engine_its_overhead_and_llama_cpp_its_attention() -> None:
    # b_seq = layers x attention per sequence and layer + the engine's host work per sequence.
    for engine in ("vllm", "tensorrt-llm", "llama.cpp"):
        s = serving(H100, "fp16", engine)
        step = roofline(LLAMA_8B, H100, "fp16", 1, s)
        assert step.b_seq_s == pytest.approx(32 * s.attention_per_sequence_layer_s + s.sequence_overhead_s, rel=1e-12)
    assert serving(H100, "fp16").sequence_overhead_s > 0  # fitted: vLLM's per-sequence host work
    # A decode step of 100 sequences pays it 100 times, whatever the precision.
    fp8 = roofline(LLAMA_8B, H100, "fp8", 1, serving(H100, "fp8"))
    one, hundred = fp8.decode_step_s(np.array([1.0, 100.0]), 0.0)
    assert hundred - one >= 99 * fp8.b_seq_s * (1 - 1e-12)


def test_a_point_runs_with_the_server_settings_of_its_engine_version() -> None:
    # vLLM 0.6 (V0) turned chunked prefill on for Llama 3.1's 128K context with a 512-token budget;
    # 0.7.1 at max_model_len 30000 left it off and ran prompts in steps of up to 30,000 tokens.
    points = {p.id: p for p in catalog.calibration().points}
    v06 = calibrate.point_serving(points["ft-h100-llama31-8b-in1024-out128-c10"])
    assert (v06.scheduling, v06.chunk_tokens, v06.max_batch) == ("chunked_prefill", 512, 256)
    v07 = calibrate.point_serving(points["ft-2xh100-llama33-70b-in1024-out128-c10"])
    assert (v07.scheduling, v07.chunk_tokens) == ("prefill_first", 30000)
    # TensorRT-LLM caches FP8 with NVIDIA's FP8 checkpoints; Qwen's FP8 checkpoint quantizes no cache.
    assert calibrate.point_serving(points["trtllm10-l8-h100-tp1-fp8-128-128"]).kv_cache_dtype == "fp8"
    assert calibrate.point_serving(points["gpustack-qwen3-32b-h100-trtllm-fp8-tp1-2000-100"]).kv_cache_dtype == "auto"


def test_a_run_of_an_older_runtime_pays_its_generations_costs_and_no_estimate_does() -> None:
    points = {p.id: p for p in catalog.calibration().points}
    v0 = ("ft-h100-llama31-8b-in1024-out128-c10", "ft-2xh100-llama33-70b-in1024-out128-c10")
    v0 += ("argonne-h100-llama3-8b-tp1-io128-bs64",)  # "unstated (pip install vllm, mid-2024)"
    v1 = ("surajssd-l33-70b-a100-40gb-tp8-bf16-sharegpt-rps4", "gpustack-qwen3-8b-h100-vllm-bf16-sharegpt-c4")
    v1 += ("dennislee-a100-80g-qwen2-7b-in1024-out1024-n10",)  # "unstated (V1 engine logs, Sept 2025 ...)"
    assert [points[i].generation for i in v0 + v1] == ["vllm-v0"] * 3 + [None] * 3
    # NIM's pages and MLPerf 4.1 ran built TensorRT engines, TensorRT-LLM 0.5 and 0.6 its first kernels; 1.0's
    # PyTorch backend is the profile's.
    engine_runs = ("nim-dli-l8-h100-sxm-tp2-fp8-2000-200-c200", "mlperf41-nvidia-h200x8-llama2-70b-offline")
    assert {points[i].generation for i in engine_runs} == {"tensorrt-engine"}
    assert points["trtllm05-h200launch-llama13b-tp1-bs1024-128-128"].generation == "tensorrt-2023"
    assert points["trtllm10-l8-h100-tp1-fp8-128-128"].generation is None
    for p in points.values():  # a generation is a runtime of the point's own engine
        assert p.generation is None or calibrate.engine_of(p) == catalog.calibration().generations[p.generation].engine

    fitted = catalog.engine_fit().engines["vllm"].generations["vllm-v0"]
    old, new = calibrate.point_serving(points[v0[0]]), calibrate.point_serving(points[v1[0]])
    assert old.step_overhead_s == pytest.approx(fitted.step_overhead_ms / 1e3)
    assert old.sequence_overhead_s == pytest.approx(fitted.sequence_overhead_us / 1e6)
    assert old.kv_bandwidth_efficiency == pytest.approx(fitted.kv_bandwidth_efficiency)
    profile = catalog.engine("vllm").costs
    assert new.step_overhead_s == pytest.approx(profile.step_overhead_ms / 1e3)
    assert new.sequence_overhead_s == pytest.approx(profile.sequence_overhead_us / 1e6)
    assert new.kv_bandwidth_efficiency == profile.kv_bandwidth_efficiency
    assert serving(H100, "fp16").sequence_overhead_s == new.sequence_overhead_s  # what every estimate uses
    # A fit in progress sets both generations' costs, each on its own runs.
    trial = {
        "sequence_overhead_us": 5.0,
        "kv_bandwidth_efficiency": 0.7,
        "vllm-v0/sequence_overhead_us": 80.0,
        "vllm-v0/kv_bandwidth_efficiency": 0.4,
    }
    trial_old = calibrate.point_serving(points[v0[0]], trial)
    trial_new = calibrate.point_serving(points[v1[0]], trial)
    assert (trial_old.sequence_overhead_s, trial_old.kv_bandwidth_efficiency) == pytest.approx((80e-6, 0.4))
    assert (trial_new.sequence_overhead_s, trial_new.kv_bandwidth_efficiency) == pytest.approx((5e-6, 0.7))


def test_a_release_without_a_grouped_query_kernel_reads_each_cached_head_once_per_query_head() -> None:
    # TensorRT-LLM 0.5 gave each query head its own thread block: Llama 2 70B's 64 query heads share 8 cached
    # heads, so its cache is read 8 times a step; Llama 2 13B's 40 heads each have their own.
    points = {p.id: p for p in catalog.calibration().points}
    for point, group in (
        ("trtllm05-h200launch-llama70b-tp1-bs64-2048-128", 8),
        ("trtllm05-h200launch-llama13b-tp1-bs64-2048-128", 1),
    ):
        p = points[point]
        assert p.generation == "tensorrt-2023" and p.catalogue_model
        limits = calibrate.point_serving(p)
        plain = step_model(catalog.model(p.catalogue_model), catalog.gpu(p.gpu), "fp8", 1, limits)
        played = calibrate.point_step(p, limits)
        assert played.b_kv_s == pytest.approx(group * plain.b_kv_s) and played.b_scan_s == pytest.approx(
            group * plain.b_scan_s
        )
        assert (played.b0_s, played.kv_capacity_tokens) == (
            plain.b0_s,
            plain.kv_capacity_tokens,
        )  # same weights, same cache


def test_saturation_is_the_heaviest_load_of_a_configuration() -> None:
    points = {p.id: p for p in catalog.calibration().points}
    assert calibrate.at_saturation(points["ft-h100-llama31-8b-in1024-out128-c30"])
    assert not calibrate.at_saturation(points["ft-h100-llama31-8b-in1024-out128-c22"])
    assert calibrate.at_saturation(points["trtllm10-l70-h200-tp1-fp8-128-2048"])  # offline
    assert calibrate.judged(points["ft-h100-llama31-8b-in1024-out128-c22"], "output_tok_per_s") is None
    assert calibrate.judged(points["ft-h100-llama31-8b-in1024-out128-c22"], "ttft_p50_ms") == "TTFT p50 below the knee"
    # TTFT is fitted only where it is the prompt's steps and the request overhead: one client.
    assert calibrate.lightest(points["ft-h100-llama31-8b-in1024-out128-c1"])
    assert not calibrate.lightest(points["ft-h100-llama31-8b-in1024-out128-c4"])


def test_a_step_computes_at_the_matrix_product_flops_a_gpu_reaches_not_its_datasheet_peak() -> None:
    # Every GPU's figure is at most its datasheet's, at each precision the datasheet gives; those the
    # MAMF table does not measure are the datasheet at its median NVIDIA shares (80.3% fp16, 74.0% fp8),
    # to a tenth.
    for gpu in catalog.gpus().values():
        for precision, peak in gpu.spec.dense_tflops.items():
            assert 0 < gpu.matmul.tflops[precision] <= peak, (gpu.name, precision)
        if gpu.matmul.source.startswith("derived"):
            assert gpu.matmul.tflops["fp16"] == pytest.approx(0.803 * gpu.spec.dense_tflops["fp16"], abs=0.06)
            if "fp8" in gpu.spec.dense_tflops:
                assert gpu.matmul.tflops["fp8"] == pytest.approx(0.740 * gpu.spec.dense_tflops["fp8"], abs=0.06)
    # An H100's FP8 products reach 1.77 times its 16-bit ones (1402.6 / 794.5), not the datasheet's 2.
    h100 = catalog.gpu("h100-sxm")
    s16, s8 = serving(h100, "fp16"), serving(h100, "fp8")
    pair = [roofline(LLAMA_8B, h100, p, 1, s).b_prefill_s for p, s in (("fp16", s16), ("fp8", s8))]
    by_hand = 1402.6 / 794.5 * s8.prefill_compute_efficiency / s16.prefill_compute_efficiency
    assert pair[0] / pair[1] == pytest.approx(by_hand, rel=1e-12)


def test_routed_experts_compute_at_a_share_that_falls_with_their_width_a_gpu() -> None:
    mixtral, qwen = catalog.model("mixtral-8x7b-instruct"), catalog.model("qwen3-235b-a22b")
    # Mixtral 8x7B: 46.7B parameters, 12.9B active, 2 of 8 experts a token, 32 layers of hidden size
    # 4,096: (46.7 - 12.9) / (1 - 2/8) = 45.07B in experts, each layer's expert 3 matrices wide 14,326.
    routed = (46.7 - 12.9) / (1 - 2 / 8) * 1e9
    assert expert_width(mixtral) == pytest.approx(routed / (8 * 32 * 3 * 4096), rel=1e-12)
    assert expert_width(LLAMA_8B) == 0.0
    s = serving(A100, "fp16")
    half = s.expert_half_width
    assert half > 0  # vLLM's fit covers two mixtures of experts
    flops = 4 * 271.2e12 * s.prefill_compute_efficiency  # an A100's measured matrix-product FLOP/s
    wide = expert_width(mixtral) / 4
    # Per token on four A100s: the dense active parameters at the fitted share, the 2/8 of the experts'
    # parameters a token runs at that share times w / (w + w_half).
    by_hand = 2 * ((12.9e9 - routed * 2 / 8) / flops + routed * 2 / 8 / (flops * wide / (wide + half)))
    assert roofline(mixtral, A100, "fp16", 4, s).b_prefill_s == pytest.approx(by_hand, rel=1e-12)
    # Narrower experts on more GPUs run further from the dense share; a dense model keeps it.
    per_active = [roofline(qwen, A100, "fp16", g, s).b_prefill_s * g / 22e9 for g in (4, 8)]
    assert per_active[1] > per_active[0]
    dense = 2 * LLAMA_8B.active_params_b * 1e9 / (271.2e12 * s.prefill_compute_efficiency)
    assert roofline(LLAMA_8B, A100, "fp16", 1, s).b_prefill_s == pytest.approx(dense, rel=1e-12)


def test_a_mixture_of_experts_lists_its_experts_half_width_among_its_assumptions() -> None:
    result = run(load_scenario(ROOT / "scenarios" / "coding-assistant.yaml"), "fluid")
    half = [a for a in result.assumptions if a.item == "routed expert width at half the FLOP/s share"]
    assert [a.option for a in half] == ["deepseek-v3-owned-h200"]  # the dense Qwen Coder has none
    vllm = catalog.engine("vllm").costs
    assert (half[0].value, half[0].source) == (vllm.expert_half_width, vllm.source)


def test_the_cache_read_share_cites_where_it_comes_from() -> None:
    # overnight-batch's llama.cpp option on the roofline: a profile with no cache share of its own reads the
    # cache at the weights' share, the scenario's once it sets one; vLLM's fitted share stays the fit's.
    llama_cpp = "options[llama-8b-h200-llamacpp].perf"
    overrides = [f"{llama_cpp}.measured=null", f"{llama_cpp}.decode_bandwidth_efficiency=0.5"]
    result = run(load_scenario(ROOT / "scenarios" / "overnight-batch.yaml", overrides), "fluid")
    shares = {a.option: (a.value, a.source) for a in result.assumptions if a.item == "KV-cache read bandwidth share"}
    assert shares["llama-8b-h200-llamacpp"] == (0.5, "scenario")
    vllm = catalog.engine("vllm").costs
    assert shares["llama-8b-h200-vllm-estimate"] == (vllm.kv_bandwidth_efficiency, vllm.source)


def test_kv_bytes_follow_the_cache_type_not_the_weights() -> None:
    # 32 layers x 8 KV heads x 128 dims x (K and V): 65,536 elements a token.
    assert kv_bytes_per_token(LLAMA_8B, "auto") == 131_072
    assert kv_bytes_per_token(LLAMA_8B, "fp8") == 65_536
    fp8_weights = roofline(LLAMA_8B, H100, "fp8", 1, serving(H100, "fp8"))
    assert fp8_weights.b_kv_s == pytest.approx(131_072 / (3350e9 * serving(H100, "fp8").kv_bandwidth_efficiency))


def test_a_steps_attention_reads_the_cache_at_the_kernels_share_and_its_mean_sequence_at_a_lone_ones() -> None:
    s = serving(H100, "fp16", "tensorrt-llm")
    step = roofline(LLAMA_8B, H100, "fp16", 1, s)
    assert s.lone_sequence_kv_efficiency is not None
    # Llama 3 8B's 16-bit cache: 131,072 bytes a token against the H100's 3,350 GB/s.
    assert step.b_kv_s == pytest.approx(131_072 / (3350e9 * s.kv_bandwidth_efficiency))
    assert step.b_scan_s == pytest.approx(131_072 / (3350e9 * s.lone_sequence_kv_efficiency))
    bare = dataclasses.replace(step, b_scan_s=0.0)
    # 10 sequences of 7,000 tokens: all 70,000 at b_kv, and the mean sequence's 7,000 at b_scan.
    assert step.step_s(0, 0, 10, 70_000) - bare.step_s(0, 0, 10, 70_000) == pytest.approx(7000 * step.b_scan_s)
    batch = np.array([1.0, 10.0, 100.0])
    extra = step.decode_step_s(batch, 7000.0) - bare.decode_step_s(batch, 7000.0)
    np.testing.assert_allclose(extra, 7000 * step.b_scan_s, rtol=1e-9)
    # One sequence reads at the two shares in series, 100 at nearly the kernels' share.
    lone = 1 / (1 / s.kv_bandwidth_efficiency + 1 / s.lone_sequence_kv_efficiency)
    attention = step.b_kv_s * 7000 + step.b_scan_s * 7000
    assert attention == pytest.approx(7000 * 131_072 / (3350e9 * lone))
    assert step.b_scan_s * 7000 < 0.2 * step.b_kv_s * 700_000
    # A prompt alone has no decoding sequence, so nothing to scan.
    assert step.step_s(500, 125_000, 0, 0) == bare.step_s(500, 125_000, 0, 0)


# 10 ms of weight reads a step; each test sets the terms it checks.
TOY = StepModel(
    b0_s=0.010,
    b_experts_s=0.0,
    expert_share=0.0,
    b_prefill_s=1e-4,
    b_attn_s=0.0,
    b_decode_s=1e-4,
    b_kv_s=0.0,
    kv_capacity_tokens=1e6,
    gpus_per_replica=1,
    source="test",
)


def test_linear_layers_overlap_attention_and_engine_terms_add() -> None:
    step = dataclasses.replace(
        TOY,
        b_prefill_s=1e-5,
        b_decode_s=5e-5,
        b_kv_s=1e-7,
        gpus_per_replica=2,
        overhead_s=0.002,
        b_comm_s=1e-6,
        b_seq_s=2e-5,
        request_s=0.03,
        overlap_sharpness=64.0,
    )
    # 100 sequences at 1,000 tokens each: weights 10 ms against FLOPs 5 ms, then 10 ms of KV reads.
    assert step.step_s(0, 0, 100, 100_000) == pytest.approx(0.002 + 0.010 + 0.010 + 1e-6 * 100 + 2e-5 * 100)
    # A 4,000-token chunk: 40 ms of FLOPs against 10 ms of weights.
    assert step.step_s(4000, 0, 0, 0) == pytest.approx(0.002 + 0.040 + 1e-6 * 4000)
    assert step.ttft_alone_s(4000, 0) == pytest.approx(0.03 + 0.002 + 0.040 + 1e-6 * 4000)
    # 1,000 sequences: 50 ms of FLOPs hide the 10 ms of weights but not the 100 ms of KV reads.
    batch = np.array([100.0, 1000.0])
    expected = [0.002 + max(0.010, 5e-5 * b) + 1e-7 * 1000 * b + 2.1e-5 * b for b in batch]
    np.testing.assert_allclose(step.decode_step_s(batch, 1000.0), expected, rtol=1e-12)


def test_weight_reads_and_flops_meet_in_a_smooth_maximum() -> None:
    step = dataclasses.replace(TOY, overlap_sharpness=2.0)
    # At the ridge (100 sequences: 10 ms of reads, 10 ms of FLOPs) neither peak is reached: sqrt(2) x 10 ms.
    assert step.step_s(0, 0, 100, 0) == pytest.approx(math.sqrt(2) * 0.010)
    # Far from it the slower sets the pace: 1,000 sequences, 100 ms of FLOPs against 10 ms of reads.
    assert step.step_s(0, 0, 1000, 0) == pytest.approx(0.100 * math.sqrt(1 + 0.1**2))
    assert step.step_s(100, 0, 0, 0) == step.step_s(0, 0, 100, 0)  # prompt tokens meet the reads alike
    assert dataclasses.replace(step, overlap_sharpness=1.0).step_s(0, 0, 100, 0) == pytest.approx(0.020)
    assert smooth_max(0.0, 0.0, 2.0) == 0.0
    assert smooth_max(1e-300, 1e-300, 16.0) == pytest.approx(2 ** (1 / 16) * 1e-300)  # no power underflows
    # The fitted sharpness reaches the step model; vLLM's fit sits at the bound of 1 (a plain sum).
    for engine in ("vllm", "tensorrt-llm"):
        fitted = roofline(LLAMA_8B, H100, "fp16", 1, serving(H100, "fp16", engine)).overlap_sharpness
        assert fitted == catalog.engine(engine).costs.overlap_sharpness >= 1
    assert catalog.engine("tensorrt-llm").costs.overlap_sharpness > 1


def test_one_client_at_a_time_is_the_lone_request_and_clients_obey_littles_law() -> None:
    args = ("llama-3.1-8b-instruct", "h100-sxm", [1.0], 1000, 200)
    n = 20
    one = capacity(*args, arrivals=Arrivals(num_prompts=n, concurrency=1)).points[0]
    step = roofline(LLAMA_8B, H100, "fp16", 1, serving(H100, "fp16"))
    server_s = step.ttft_alone_s(1000, 1000**2 / 2) - step.request_s
    server_s += sum(float(step.decode_step_s(np.array([1.0]), 1000 + k)[0]) for k in range(1, 200))
    # The client sends again as the server finishes; only the last answer's overhead is not overlapped.
    assert one.output_tok_per_s == pytest.approx(n * 200 / (n * server_s + step.request_s), rel=1e-9)
    # Little's law: clients = requests per second x mean time in the system (to the edges of the run).
    m, clients = 4000, 16
    r = Requests.alike(np.zeros(m), 1000, 200)
    closed_loop(step, r, clients, serving(H100, "fp16"))
    in_system_s = float(np.mean(r.done_s - r.arrival_s - step.request_s))
    assert clients == pytest.approx(m / float(np.max(r.done_s)) * in_system_s, rel=0.02)


def test_clients_start_together_and_each_round_of_prompts_runs_in_one_step() -> None:
    """As serving benchmarks start them: identical requests then come back together, round after round."""
    limits = serving(H100, "fp16")
    step = roofline(LLAMA_8B, H100, "fp16", 1, limits)
    clients, rounds, isl = 4, 3, limits.chunk_tokens // 8  # every round's prompts fit one chunk
    r = Requests.alike(np.zeros(clients * rounds), isl, 50)
    closed_loop(step, r, clients, limits)
    assert len(np.unique(r.arrival_s)) == rounds and np.all(r.arrival_s[:clients] == 0.0)
    together_s = step.request_s + step.step_s(clients * isl, clients * isl * isl / 2, 0, 0)
    assert r.first_token_s[:clients] == pytest.approx(np.full(clients, together_s), rel=1e-9)
    assert together_s > step.ttft_alone_s(isl, isl * isl / 2)  # four prompts take longer than one


def test_the_engine_is_a_cost_lever_in_capacity(capsys) -> None:
    base = ["capacity", "--model", "llama-3.1-8b-instruct", "--gpu", "h200", "--input-tokens", "512"]
    base += ["--output-tokens", "128", "--rates", "20", "--num-prompts", "400", "--json"]
    results = {}
    for engine in ("vllm", "llama.cpp"):
        assert main([*base, "--engine", engine]) == 0
        results[engine] = __import__("json").loads(capsys.readouterr().out)
    assert (results["vllm"]["engine"], results["vllm"]["max_batch"]) == ("vllm", 1024)
    assert (results["llama.cpp"]["engine"], results["llama.cpp"]["max_batch"]) == ("llama.cpp", 4)
    vllm, llama = results["vllm"]["points"][0], results["llama.cpp"]["points"][0]
    assert llama["output_tok_per_s"] < vllm["output_tok_per_s"] / 2


def test_a_device_without_a_link_refuses_tensor_parallelism(capsys) -> None:
    args = ["capacity", "--model", "tinyllama-1.1b-chat", "--gpu", "cpu-2core", "--gpus-per-replica", "2"]
    assert main([*args, "--input-tokens", "10", "--output-tokens", "10", "--rates", "1"]) == 2
    err = capsys.readouterr().err
    assert "--gpus-per-replica: cpu-2core has no GPU-to-GPU link (use 1)" in err and err.count("\n") == 1


def _errors(split: str) -> dict[tuple[str, str], list[float]]:
    """Absolute relative errors by (issue-level figure, engine or "every engine"), as fidelity.py prints them."""
    errors: dict[tuple[str, str], list[float]] = {}
    for p in calibrate.usable(split):
        for metric, reference, value in calibrate.compared(p, calibrate.simulate(p)):
            figure = calibrate.judged(p, metric)
            if figure is not None:
                for group in (calibrate.engine_of(p), "every engine"):
                    errors.setdefault((figure, group), []).append(abs(value / reference - 1))
    return errors


def test_the_fit_reproduces_its_training_points_and_holds_on_the_rest() -> None:
    # Regression guards on the bundled fit (benchmarks/fidelity.py prints the exact figures): the
    # fit points' median saturation error stays under 10%; on the validate points the mean TPOT and
    # TTFT errors stay within their targets (20%, 25%), vLLM's three figures within theirs (10%, 20%, 25%)
    # and every engine's saturation throughput within 10%.
    fit, validate = _errors("fit"), _errors("validate")
    assert statistics.median(fit["saturation throughput", "every engine"]) < 0.10
    assert statistics.mean(validate["saturation throughput", "vllm"]) < 0.10
    assert statistics.mean(validate["saturation throughput", "every engine"]) < 0.10
    assert statistics.mean(validate["TPOT p50", "every engine"]) < 0.20
    assert statistics.mean(validate["TTFT p50 below the knee", "every engine"]) < 0.25
    assert statistics.mean(validate["TTFT p50 below the knee", "vllm"]) < 0.25
    assert statistics.mean(validate["TPOT p50", "vllm"]) < 0.20
    fitted = catalog.engine_fit()
    assert fitted.calibration_version == catalog.calibration().version
    assert {"vllm", "tensorrt-llm"} <= set(fitted.engines)
    # A term is fitted where two models show it: vLLM's points cover several mixtures of experts,
    # TensorRT-LLM's one (Mixtral), so its experts run at the dense share.
    assert fitted.engines["vllm"].expert_half_width and fitted.engines["tensorrt-llm"].expert_half_width is None
    # SGLang's fit points are two SGLang 0.3.0 ShareGPT runs and a Qwen3-8B run (its DeepSeek-V3 runs are attention
    # data parallel, its Qwen3-14B runs held apart), too few for ten costs: it is not fitted and shares vLLM's costs.
    assert calibrate.fit_engine("sglang") is None
    assert catalog.engine("sglang").costs == catalog.engine("vllm").costs
