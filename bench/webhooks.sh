#!/usr/bin/env bash
# bench/run.sh webhooks: the benchmark lives in bench/webhooks/ with its receiver.
exec bash "$(dirname "${BASH_SOURCE[0]}")/webhooks/bench.sh"
