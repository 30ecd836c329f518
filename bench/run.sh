#!/bin/sh
# Tandem's benchmark (issue 4): the one command that reproduces docs/performance.md.
#
#   bench/run.sh            full run, about 7 minutes plus the build: builds the release binary,
#                           the load generator and the in-process benchmark, runs five of the
#                           in-process benchmarks, seeds 10,000 SKUs, runs the flash sale at
#                           64/256/1,024 connections, the sell-out, the ceiling, verifies,
#                           compares with the conventional design on a throwaway PostgreSQL,
#                           writes bench/results/
#   bench/run.sh --quick    under a minute on a tiny setting (make test runs it; no timing asserted)
#   bench/run.sh --help     every option (server threads, connection counts, durations, ...)
#
# Each heavy step takes the machine lock (/tmp/tandem-machine.lock) by itself while it runs:
# do not wrap this script in flock. The full run installs the Debian packages it needs
# (postgresql, gnuplot-nox) with apt-get when they are missing.
set -eu
cd "$(dirname "$0")/.."

quick=0
for arg in "$@"; do
  case "$arg" in --quick|--help|-h) quick=1 ;; esac
done

if [ "$quick" = 0 ]; then
  missing=""
  for p in postgresql gnuplot-nox; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    echo "Installing Debian packages:$missing"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
  fi
fi

exec /usr/bin/python3 bench/bench.py "$@"
