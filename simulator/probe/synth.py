"""Random-weight GGUF files of any dense model's shape, to measure speed without its weights.

llama.cpp runs a `llama`-architecture file of the right shape at the speed of the real model
(prompt processing the same, generation within about 15% for dense models), so measurements on
such a proxy are labelled `proxy: true`. Tensors are generated and written one at a time: memory
stays at one tensor, whatever the model's size.
"""

from __future__ import annotations

import ctypes
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from simulator.catalog import OpenModel
from simulator.errors import InputError
from simulator.files import writing

SynthPrecision = Literal["f16", "q8_0", "q4_0", "q4_k_m"]
WEIGHT_STD = 0.02
POOL_VALUES = 1 << 24
"""Random values drawn once and reused at random offsets: speed does not depend on the values, and
drawing billions of fresh ones would dominate the time to write a large proxy."""
SPECIAL_TOKENS = ("<unk>", "<s>", "</s>")
BYTE_TOKENS = 256
# llama.cpp's token types: normal, unknown, control, byte.
NORMAL, UNKNOWN, CONTROL, BYTE = 1, 2, 3, 6


@dataclass(frozen=True)
class Shape:
    name: str
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    ffn: int
    vocab: int
    context: int

    @classmethod
    def of(cls, model: OpenModel) -> Shape:
        if model.experts:
            raise InputError("", "--shape", f"{model.name} is a mixture of experts", "choose a dense model")
        if model.ffn_hidden_size is None or model.vocab_size is None:
            raise InputError(
                "", "--shape", f"the catalogue lacks the FFN or vocabulary size of {model.name}", "choose another model"
            )
        return cls(
            model.name,
            model.hidden_size,
            model.layers,
            model.attention_heads,
            model.kv_heads,
            model.ffn_hidden_size,
            model.vocab_size,
            min(model.context_tokens, 8192),
        )

    @property
    def parameters(self) -> int:
        head_dim = self.hidden // self.heads
        attention = self.hidden * head_dim * (2 * self.heads + 2 * self.kv_heads)
        per_layer = attention + 3 * self.hidden * self.ffn + 2 * self.hidden
        return self.layers * per_layer + 2 * self.vocab * self.hidden + self.hidden

    def tensors(self) -> list[tuple[str, tuple[int, ...]]]:
        """Tensor names and numpy shapes (rows, columns) of a llama-architecture GGUF."""
        h, kv_dim = self.hidden, self.hidden // self.heads * self.kv_heads
        out: list[tuple[str, tuple[int, ...]]] = [("token_embd.weight", (self.vocab, h))]
        for i in range(self.layers):
            b = f"blk.{i}."
            out += [
                (b + "attn_norm.weight", (h,)),
                (b + "attn_q.weight", (h, h)),
                (b + "attn_k.weight", (kv_dim, h)),
                (b + "attn_v.weight", (kv_dim, h)),
                (b + "attn_output.weight", (h, h)),
                (b + "ffn_norm.weight", (h,)),
                (b + "ffn_gate.weight", (self.ffn, h)),
                (b + "ffn_up.weight", (self.ffn, h)),
                (b + "ffn_down.weight", (h, self.ffn)),
            ]
        return [*out, ("output_norm.weight", (h,)), ("output.weight", (self.vocab, h))]


def _vocabulary(size: int) -> tuple[list[str], list[float], list[int]]:
    """A SentencePiece-style vocabulary: specials, 256 byte tokens, then pieces."""
    tokens = list(SPECIAL_TOKENS) + [f"<0x{b:02X}>" for b in range(BYTE_TOKENS)]
    types = [UNKNOWN, CONTROL, CONTROL] + [BYTE] * BYTE_TOKENS
    tokens += [f"\u2581t{k}" for k in range(size - len(tokens))]
    types += [NORMAL] * (size - len(types))
    scores = [0.0] * len(SPECIAL_TOKENS) + [0.0] * BYTE_TOKENS + [-float(k) for k in range(size - len(types[:259]))]
    return tokens, scores[:size], types


def write_gguf(shape: Shape, path: Path, seed: int = 0) -> None:
    """Write an f16 llama-architecture GGUF with random weights (norms at 1)."""
    import gguf

    rng = np.random.default_rng(seed)
    pool = (rng.standard_normal(POOL_VALUES, dtype=np.float32) * WEIGHT_STD).astype(np.float16)
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name(f"{shape.name} (random-weight proxy)")
    writer.add_context_length(shape.context)
    writer.add_embedding_length(shape.hidden)
    writer.add_block_count(shape.layers)
    writer.add_feed_forward_length(shape.ffn)
    writer.add_head_count(shape.heads)
    writer.add_head_count_kv(shape.kv_heads)
    writer.add_rope_dimension_count(shape.hidden // shape.heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    tokens, scores, types = _vocabulary(shape.vocab)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    specs = shape.tensors()
    for name, dims in specs:
        dtype = np.float32 if len(dims) == 1 else np.float16
        writer.add_tensor_info(name, dims, np.dtype(dtype), int(np.prod(dims)) * np.dtype(dtype).itemsize)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for _, dims in specs:
        if len(dims) == 1:
            writer.write_tensor_data(np.ones(dims, dtype=np.float32))
        else:
            count = int(np.prod(dims))
            start = int(rng.integers(0, POOL_VALUES))
            values = np.resize(np.roll(pool, -start), count) if count > POOL_VALUES else np.roll(pool, -start)[:count]
            writer.write_tensor_data(values.reshape(dims))
    writer.close()


def quiet(llama_cpp) -> None:
    """Silence llama.cpp's loader and quantiser logging (the probe prints its own summary)."""

    @llama_cpp.llama_log_callback
    def _drop(level, text, user_data):
        return None

    quiet.keep = _drop  # type: ignore[attr-defined]  # the callback must outlive this call
    llama_cpp.llama_log_set(_drop, ctypes.c_void_p())


def quantize(source: Path, target: Path, precision: SynthPrecision, threads: int = 0) -> None:
    """Quantise an f16 GGUF with llama.cpp's own quantiser."""
    import llama_cpp

    quiet(llama_cpp)
    ftype = {
        "q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0,
        "q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0,
        "q4_k_m": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M,
    }[precision]
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = threads
    if llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), params) != 0:
        raise InputError(str(source), "", f"llama.cpp could not quantise it to {precision}", "check the file")


def synthesize(shape: Shape, out: Path, precision: SynthPrecision = "f16", seed: int = 0) -> Path:
    """A proxy GGUF at `out` in the given precision; f16 is written directly, others quantised from it."""
    with writing(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(out.suffix + ".partial")
        f16 = tmp if precision == "f16" else out.with_name(out.stem + ".f16.partial.gguf")
        try:
            write_gguf(shape, f16, seed)
            if precision != "f16":
                quantize(f16, tmp, precision)
            tmp.replace(out)
        finally:
            f16.unlink(missing_ok=True)
            tmp.unlink(missing_ok=True)
    return out


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
