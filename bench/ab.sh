#!/bin/sh
# A/B of two tandem server binaries (docs/performance.md): the flash sale alone at 256
# connections, the two binaries alternately (A then B), N rounds, each run on a fresh seeded data
# folder, through bench/bench.py (--no-build --connections 256 --skip-pg --skip-in-process
# --skip-extra --sweep-threads ''). After each round a table: binary, checkouts/s, p99 over all
# requests, the server's CPU µs per checkout (all threads; the writer thread's beside it); at the
# end every round's figures per binary.
#
#   bench/ab.sh [--rounds N] [--seconds S] [--loadgen FILE] [--out DIR] A/tandem B/tandem
#
#   --rounds N      rounds (default 3)
#   --seconds S     seconds of flash sale per run (default 15; one round, both binaries, takes
#                   72-86 s on the 2-core machine, plus the waits for the lock)
#   --loadgen FILE  the load generator (default: tandem-loadgen beside A, else
#                   build/release/bench/tandem-loadgen); it must know --server-pid
#   --out DIR       where each run's bench.py results go (default /tmp/tandem-ab-DATE-TIME)
#
# bench.py also runs its sell-out after the flash sale (on the same server, so it does not touch
# the flash figures) and its checks (every order verified, stock, `tandem check`): the table says
# whether they passed and the exit status is 1 if one did not. bench.py takes the machine lock
# for each heavy step by itself: do not wrap this script in flock.
set -eu
cd "$(dirname "$0")/.."

rounds=3
seconds=15
loadgen=""
out=""
usage() { sed -n '9,16p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --loadgen) loadgen="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "ab.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ $# -ne 2 ]; then usage >&2; exit 2; fi
a=$(realpath "$1")
b=$(realpath "$2")
if [ -z "$loadgen" ]; then
  loadgen="$(dirname "$a")/tandem-loadgen"
  [ -x "$loadgen" ] || loadgen="build/release/bench/tandem-loadgen"
fi
loadgen=$(realpath "$loadgen")
for f in "$a" "$b" "$loadgen"; do
  [ -x "$f" ] || { echo "ab.sh: $f is not an executable" >&2; exit 2; }
done
[ -n "$out" ] || out="/tmp/tandem-ab-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
echo "A/B: A=$a B=$b, $rounds round(s) of ${seconds} s at 256 connections; loadgen $loadgen"
echo "results in $out"

# The table of the given runs (their bench.py results folders), one line each.
table() {
  /usr/bin/python3 - "$@" <<'EOF'
import json, os, re, sys


def f(x, spec):
    return format(x, spec) if x is not None else format("–", spec.lstrip(",").split(".")[0])


print(f"{'run':<6} {'binary':<36} {'checkouts/s':>11} {'p99 ms':>7} {'CPU µs/checkout':>15} "
      f"{'writer µs':>9} {'server cores':>12} {'other cores':>11}  checks  lock wait")
for d in sys.argv[1:]:
    label, binary = open(os.path.join(d, "binary")).read().strip().split(" ", 1)
    binary = binary if len(binary) <= 36 else "…" + binary[-35:]
    try:
        with open(os.path.join(d, "results.json")) as fh:
            r = json.load(fh)
        run = r["runs"]["flash-256"]
    except (OSError, ValueError, KeyError):
        print(f"{label:<6} {binary:<36} no results: see {d}.log")
        continue
    cpu = run.get("cpu") or {}
    with open(d + ".log") as fh:  # bench.py's waits for the machine lock (others' work)
        waited = sum(int(x) for x in re.findall(r"got the lock after (\d+) s", fh.read()))
    print(f"{label:<6} {binary:<36} {f(run['checkouts_per_second'], '>11,.0f')} "
          f"{f(run['latency_ms']['p99'], '>7.2f')} "
          f"{f(run.get('server_cpu_us_per_checkout'), '>15.1f')} "
          f"{f(run.get('writer_cpu_us_per_checkout'), '>9.1f')} "
          f"{f(cpu.get('server_cores'), '>12.2f')} {f(cpu.get('other_cores'), '>11.2f')}  "
          f"{'ok' if r['ok'] else 'FAILED':<6}  {waited} s")
EOF
}

failed=0
all_a=""
all_b=""
r=1
while [ "$r" -le "$rounds" ]; do
  started=$(date +%s)
  dirs=""
  for side in A B; do
    if [ "$side" = A ]; then bin="$a"; else bin="$b"; fi
    dir="$out/round-$r-$side"
    mkdir -p "$dir"
    echo "$r$side $bin" > "$dir/binary"
    echo "[ab $(date +%H:%M:%S)] round $r/$rounds: $side"
    rc=0
    timeout -s INT -k 60 900 /usr/bin/python3 bench/bench.py --no-build --bin "$bin" \
      --loadgen "$loadgen" --connections 256 --flash-seconds "$seconds" --skip-pg --skip-in-process --skip-extra \
      --sweep-threads "" --out "$dir" > "$dir.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
      failed=1
      echo "bench.py exited with $rc; the end of $dir.log:"
      tail -n 15 "$dir.log"
    fi
    dirs="$dirs $dir"
    if [ "$side" = A ]; then all_a="$all_a $dir"; else all_b="$all_b $dir"; fi
  done
  echo
  echo "round $r/$rounds ($(( $(date +%s) - started )) s):"
  # shellcheck disable=SC2086
  table $dirs
  echo
  r=$((r + 1))
done

if [ "$rounds" -gt 1 ]; then
  echo "every round, A then B:"
  # shellcheck disable=SC2086
  table $all_a $all_b
fi
exit "$failed"
