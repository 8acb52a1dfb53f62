#!/usr/bin/env bash
# bench/run.sh ha: the benchmark lives in bench/ha/ (processes and checks in end2end/support/ha/).
exec bash "$(dirname "${BASH_SOURCE[0]}")/ha/bench.sh"
