#!/usr/bin/env bash
# bench/run.sh soak: the benchmark lives in bench/soak/ with its Goose load generator.
exec bash "$(dirname "${BASH_SOURCE[0]}")/soak/bench.sh"
