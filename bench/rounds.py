"""Merges interleaved rounds (a JSON-lines file of {"round", "phase", "figures"} with wrk
figures) into one figure per phase: requests/s as the mean over the rounds with each
round's, latencies as the worst round's. Also ratios: `ratio(a, b)` over all rounds and
per round. Used by bench/flags.sh and bench/tokens.sh."""
import json


class Rounds:
    def __init__(self, path):
        self.phases = {}
        for line in open(path):
            row = json.loads(line)
            self.phases.setdefault(row["phase"], []).append(row["figures"])

    def figures(self):
        out = {}
        for name, figs in self.phases.items():
            merged = {
                "requests_per_sec": round(sum(f["requests_per_sec"] for f in figs) / len(figs), 2),
                "per_round_requests_per_sec": [f["requests_per_sec"] for f in figs],
                "non_2xx": sum(f["non_2xx"] for f in figs),
            }
            for k in ("latency_p50_ms", "latency_p99_ms"):
                merged[k] = max(f.get(k, 0) for f in figs)
            out[name] = merged
        return out

    def rate(self, name):
        figs = self.phases[name]
        return sum(f["requests_per_sec"] for f in figs) / len(figs)

    def ratio(self, a, b):
        return round(self.rate(a) / self.rate(b), 3)

    def per_round(self, a, b):
        return [round(x["requests_per_sec"] / y["requests_per_sec"], 3)
                for x, y in zip(self.phases[a], self.phases[b])]
