#!/bin/sh
# Crash under load (issue 4): runs the flash sale, kill -9's the server at a random moment of each
# 4-second cycle (12 times by default), restarts it, and checks that every order answered 201
# exists and that `tandem check` is clean after every kill and at the end. About 1 minute plus the build.
#
#   bench/crash.sh                  builds the release binary, then runs (results: bench/results/crash/)
#   bench/crash.sh --kills 20       more kills;  bench/crash.sh --help  for every option
#
# Each cycle takes the machine lock (/tmp/tandem-machine.lock) by itself: do not wrap in flock.
set -eu
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/crash.py "$@"
