"""Turns `wrk --latency` output (stdin) into JSON figures: requests/s and latency percentiles in ms."""
import json, re, sys

text = sys.stdin.read()
def ms(value):
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return round(float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 3)
out = {"requests_per_sec": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))}
for pct, value in re.findall(r"^\s+(50|75|90|95|99)%\s+(\S+)", text, re.M):
    out[f"latency_p{pct}_ms"] = ms(value)
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
out["non_2xx"] = int(errors.group(1)) if errors else 0
refused = re.search(r"Refused sign-ins: (\d+)", text)  # bench/login.sh's check of each answer
if refused:
    out["refused"] = int(refused.group(1))
print(json.dumps(out))
