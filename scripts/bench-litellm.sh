#!/usr/bin/env bash
# Side by side: the proxy scenario (`clawgate-bench proxy`) against Clawgate and against
# LiteLLM's proxy, both in front of the same local OpenAI-compatible upstream, in one run.
#
#   scripts/bench-litellm.sh                 # release builds, 10 s per measurement (~5 min)
#   BENCH_DURATION=3 scripts/bench-litellm.sh
#
# It installs everything it needs: builds clawgate and clawgate-bench (swift build), creates a
# venv with LiteLLM's proxy from PyPI (pip install 'litellm[proxy]') under .build/, starts
# `clawgate-bench upstream` and `litellm` with a generated config, runs the scenario against
# both (each also measures the upstream directly), prints the ratios and leaves both JSON
# reports in $BENCH_OUT. Settings (environment):
#   BENCH_CONFIG       release (default) or debug: which build of clawgate/clawgate-bench
#   BENCH_DURATION     measured seconds per measurement (10)
#   BENCH_WARMUP       warm-up seconds before each measurement (1)
#   BENCH_RATES        open-loop rates for non-stream latency, comma-separated (25,50: LiteLLM's
#                      proxy tops out below 100 req/s here, and above its maximum an open loop
#                      measures its queue, not its latency)
#   BENCH_STREAM_RATE  open-loop rate for the streamed time to first byte (25)
#   BENCH_CONCURRENCY  closed-loop clients for max throughput (64)
#   LITELLM_VERSION    pip version spec, e.g. ==1.80.0 (default: newest)
#   LITELLM_WORKERS    litellm --num_workers (1)
#   LITELLM_VENV       venv folder (.build/litellm-venv)
#   BENCH_OUT          where the JSON reports go (.build/bench-litellm/<time>)
set -euo pipefail

script="${BASH_SOURCE[0]}"
[[ "$script" == */* ]] || script="./$script"
root="$(cd "${script%/*}/.." && pwd)"
cd "$root"

config="${BENCH_CONFIG:-release}"
duration="${BENCH_DURATION:-10}"
warmup="${BENCH_WARMUP:-1}"
rates="${BENCH_RATES:-25,50}"
stream_rate="${BENCH_STREAM_RATE:-25}"
concurrency="${BENCH_CONCURRENCY:-64}"
workers="${LITELLM_WORKERS:-1}"
venv="${LITELLM_VENV:-$root/.build/litellm-venv}"
out="${BENCH_OUT:-$root/.build/bench-litellm/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"

say() { echo "bench-litellm: $*" >&2; }

# 1. Our two executables (incremental when they are up to date). `swift build` builds only the
# last --product given, hence two commands.
say "building clawgate and clawgate-bench ($config)"
swift build -c "$config" --product clawgate >&2
swift build -c "$config" --product clawgate-bench >&2
bin="$(swift build -c "$config" --show-bin-path)"
bench="$bin/clawgate-bench"

# 2. LiteLLM's proxy in a throw-away venv.
if ! command -v python3 >/dev/null 2>&1; then
    say "python3 not found (install python3 and python3-venv)"
    exit 3
fi
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv" || { say "'python3 -m venv' failed (Debian: apt-get install python3-venv)"; exit 3; }
fi
if ! [ -x "$venv/bin/litellm" ] || [ -n "${LITELLM_VERSION:-}" ]; then
    say "installing litellm[proxy]${LITELLM_VERSION:-} into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "litellm[proxy]${LITELLM_VERSION:-}" >&2
fi
litellm_version="$("$venv/bin/python" -c 'from importlib.metadata import version; print(version("litellm"))')"
say "litellm $litellm_version"

work="$(mktemp -d "${TMPDIR:-/tmp}/bench-litellm.XXXXXX")"
upstream_pid=""
litellm_pid=""
cleanup() {
    local status=$?
    for pid in "$litellm_pid" "$upstream_pid"; do
        [ -n "$pid" ] || continue
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

# 3. The upstream, as its own process so that LiteLLM can reach it.
"$bench" upstream --port 0 >"$work/upstream.out" 2>"$work/upstream.err" &
upstream_pid=$!
upstream_url=""
for _ in $(seq 1 300); do
    upstream_url="$(sed -n 's/^upstream listening on //p' "$work/upstream.out")"
    [ -n "$upstream_url" ] && break
    kill -0 "$upstream_pid" 2>/dev/null || { say "the upstream exited: $(cat "$work/upstream.err")"; exit 1; }
    sleep 0.1
done
[ -n "$upstream_url" ] || { say "the upstream printed no URL"; exit 1; }
say "upstream at $upstream_url"

# 4. LiteLLM pointed at it: one model, a master key, no database, no network look-ups.
litellm_port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
litellm_key="sk-bench-$("$venv/bin/python" -c 'import secrets; print(secrets.token_hex(16))')"
cat >"$work/litellm.yaml" <<EOF
model_list:
  - model_name: m1
    litellm_params:
      model: openai/m1
      api_base: $upstream_url
      api_key: sk-upstream-unused
general_settings:
  master_key: $litellm_key
litellm_settings:
  drop_params: true
  telemetry: false
EOF
say "starting litellm on 127.0.0.1:$litellm_port ($workers worker(s))"
LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOG=ERROR \
    "$venv/bin/litellm" --config "$work/litellm.yaml" --host 127.0.0.1 --port "$litellm_port" --num_workers "$workers" \
    >"$work/litellm.log" 2>&1 &
litellm_pid=$!
ready=""
for _ in $(seq 1 1200); do
    if "$venv/bin/python" - "$litellm_port" <<'EOF' 2>/dev/null; then ready=1; break; fi
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health/liveliness", timeout=1).read()
EOF
    kill -0 "$litellm_pid" 2>/dev/null || { say "litellm exited:"; tail -n 40 "$work/litellm.log" >&2; exit 1; }
    sleep 0.1
done
[ -n "$ready" ] || { say "litellm did not become live within 120 s:"; tail -n 40 "$work/litellm.log" >&2; exit 1; }
say "litellm is live"

# 5. The proxy scenario against both; each run also measures the upstream directly.
common=(proxy --json --upstream-url "$upstream_url" --duration "$duration" --warmup "$warmup" --rates "$rates"
    --stream-rate "$stream_rate" --concurrency "$concurrency")
say "proxy scenario through clawgate"
"$bench" "${common[@]}" >"$out/clawgate.json"
say "proxy scenario through litellm"
"$bench" "${common[@]}" --target-url "http://127.0.0.1:$litellm_port/v1" --target-key "$litellm_key" \
    --target-model m1 --target-name litellm >"$out/litellm.json"
cp "$work/litellm.log" "$out/litellm.log"

# 6. The ratios.
"$venv/bin/python" - "$out/clawgate.json" "$out/litellm.json" "$litellm_version" <<'EOF'
import json, sys

gateway = json.load(open(sys.argv[1]))
litellm = json.load(open(sys.argv[2]))

def added(report):
    return {entry["measurement"]: entry for entry in report["comparison"]["added"]}

def throughput(report):
    name = report["through"]["name"]
    for m in report["measurements"]:
        if m["kind"] == "throughput" and m["target"] == name:
            return m["achievedRate"], m["errors"]
    return None, None

def ratio(a, b):
    return f"{a / b:.1f}x" if b and b > 0.01 and a is not None else "n/a"

def kept_up(report, rate, kind):
    name = report["through"]["name"]
    for m in report["measurements"]:
        if m["kind"] == kind and m["target"] == name and m.get("rate") == rate:
            return m["errors"] == 0 and m["achievedRate"] >= rate * 0.99, m["achievedRate"]
    return True, None

print(f"proxy side by side (litellm {sys.argv[3]}, same upstream, same load generator):")
g_rate, g_err = throughput(gateway)
l_rate, l_err = throughput(litellm)
print(f"  max throughput: clawgate {g_rate:.1f} req/s ({g_err} errors), litellm {l_rate:.1f} req/s ({l_err} errors)"
      f" -> clawgate/litellm {ratio(g_rate, l_rate)}")
g_added, l_added = added(gateway), added(litellm)
for label, g in g_added.items():
    l = l_added.get(label)
    if l is None:
        continue
    line = (f"  added {label}: p50 clawgate {g['p50Ms']:+.2f} ms, litellm {l['p50Ms']:+.2f} ms -> litellm/clawgate "
            f"{ratio(l['p50Ms'], g['p50Ms'])}; p99 clawgate {g['p99Ms']:+.2f} ms, litellm {l['p99Ms']:+.2f} ms -> "
            f"{ratio(l['p99Ms'], g['p99Ms'])}")
    if g.get("rate") is not None:
        for who, report in (("clawgate", gateway), ("litellm", litellm)):
            ok, achieved = kept_up(report, g["rate"], g["kind"])
            if not ok:
                line += f" [{who} did not keep up: {achieved:.1f} req/s achieved, so this is queueing]"
    print(line)
errors = sum(m["errors"] for r in (gateway, litellm) for m in r["measurements"])
if errors:
    print(f"  note: {errors} requests failed (see the JSON reports)")
EOF
say "reports: $out/clawgate.json $out/litellm.json"
