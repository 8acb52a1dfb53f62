#!/usr/bin/env python3
"""Checks everything in deploy/ offline (run through deploy/validate.sh).

- Kubernetes manifests against the Kubernetes JSON schemas bundled in the
  `kubernetes-validate` package (strict: unknown fields refused), for the oldest and the
  newest Kubernetes version below; the custom resources (CloudNativePG Cluster, the
  Prometheus Operator's PodMonitor and PrometheusRule) and the kustomizations against the
  schemas in deploy/schemas/.
- What the schemas cannot see: probes on /readyz and /healthz, selectors that match the
  pods, named ports that exist, non-root and read-only containers with requests and
  limits, one image everywhere, subcommands and GATEHOUSE_* variables that exist in the
  code, the connection budget against PostgreSQL's max_connections.
- Alert rules and the Grafana dashboard: every PromQL expression parses (promql-parser),
  and every metric, label and label value it names exists in the code, so neither can
  drift from what /metrics serves. The PrometheusRule carries the same groups as the rule
  file.
- The Dockerfile's tool versions against scripts/setup.sh; the systemd unit with
  `systemd-analyze` when present; the kustomizations with `kubectl kustomize` when present.
- The Citus section of deploy/README.md names every table the migrations create.

Ends with "deploy: N passed, N failed" and exits 1 when anything failed.
"""

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema
import kubernetes_validate
import kubernetes_validate.version as kv_version
import promql_parser as pq
import yaml

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
K8S_VERSIONS = ["1.30.0", "1.37.0"]
NAMESPACE = "gatehouse"

# The metrics Gatehouse exports, with their labels and the values the code gives the
# enumerable ones. Checked against the source below: every metric the code emits must be
# listed here with its kind, and every label and value listed must appear as a string
# literal in a file that emits it. Only metrics the code emits may be used by the alerts
# and the dashboard; a listed metric the code no longer emits is reported, and fails as
# soon as a rule or panel uses it.
METRICS = {
    "gatehouse_http_requests_total": ("counter", {"method": None, "route": "routes", "status": None}),
    "gatehouse_http_request_duration_seconds": ("histogram", {"method": None, "route": "routes"}),
    "gatehouse_tokens_issued_total": ("counter", {}),
    "gatehouse_billing_events_total": (
        "counter", {"outcome": {"accepted", "duplicate", "conflict", "rejected"}}),
    "gatehouse_webhook_attempts_total": ("counter", {"outcome": {"delivered", "failed"}}),
    "gatehouse_webhook_delivery_delay_seconds": ("histogram", {}),
    "gatehouse_emails_total": ("counter", {"outcome": {"sent", "retry", "failed"}}),
    "gatehouse_mail_delivery_up": ("gauge", {}),
    "gatehouse_db_pool_connections": ("gauge", {"state": {"idle", "in_use"}}),
    "gatehouse_db_pool_max_connections": ("gauge", {}),
    "gatehouse_backup_last_success_timestamp_seconds": ("gauge", {"kind": {"create", "verify", "restore"}}),
    "gatehouse_backup_duration_seconds": ("gauge", {"kind": {"create", "verify", "restore"}}),
    "gatehouse_backup_last_ok": ("gauge", {"kind": {"create", "verify", "restore"}}),
    "gatehouse_backup_size_bytes": ("gauge", {}),
}
# Series Prometheus itself adds for every target, and the labels it (or the Prometheus
# Operator) puts on every scraped series.
SYNTHETIC = {"up": {}}
TARGET_LABELS = {"job", "instance", "namespace", "pod", "container", "endpoint", "service"}
# Grafana's variables, replaced by a value of their kind before an expression is parsed.
GRAFANA_VARS = {"$__rate_interval": "5m", "$__interval": "1m", "${job}": "gatehouse",
                "$job": "gatehouse", "${instance}": ".*", "$instance": ".*"}
CUSTOM_SCHEMAS = {
    ("postgresql.cnpg.io/v1", "Cluster"): "cnpg-cluster.schema.json",
    ("monitoring.coreos.com/v1", "PodMonitor"): "podmonitor.schema.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule.schema.json",
    ("kustomize.config.k8s.io/v1beta1", "Kustomization"): "kustomization.schema.json",
}
# Files that are not Kubernetes objects, with their schema.
FILE_SCHEMAS = {
    "monitoring/gatehouse-alerts.yml": "prometheus-rules.schema.json",
    "monitoring/prometheus-scrape.example.yml": "prometheus-config.schema.json",
}
SEVERITIES = {"critical", "warning", "info"}
VERBOSE = "-v" in sys.argv[1:]


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = []
        self.skipped = []

    def check(self, name, ok, why=""):
        if ok:
            self.passed += 1
            if VERBOSE:
                print(f"ok   {name}")
        else:
            self.failed.append(name)
            print(f"FAIL {name}: {why}")
        return ok

    def ok(self, name):
        return self.check(name, True)

    def fail(self, name, why):
        return self.check(name, False, why)

    def skip(self, name, why):
        self.skipped.append(name)
        print(f"skip {name}: {why}")


R = Report()


def rel(path):
    return str(Path(path).relative_to(ROOT))


def read(path):
    return Path(path).read_text(encoding="utf-8")


# --- the code: what exists ------------------------------------------------------------------

def rust_files():
    for crate in ("server", "app", "domain"):
        yield from sorted((ROOT / crate / "src").rglob("*.rs"))


def source_metrics():
    """name -> (kind, files emitting it)."""
    found = {}
    pattern = re.compile(r'metrics::(counter|gauge|histogram)!\(\s*"([^"]+)"', re.S)
    for f in rust_files():
        for kind, name in pattern.findall(read(f)):
            k, files = found.setdefault(name, (kind, set()))
            if k != kind:
                R.fail(f"metric {name}", f"emitted as both {k} and {kind}")
            files.add(f)
    return found


def source_routes():
    """Every string literal in the server and app code that looks like a path."""
    routes = set()
    for f in rust_files():
        routes.update(re.findall(r'"(/[A-Za-z0-9_./{}*:-]*)"', read(f)))
    return routes


def config_env_names():
    text = read(ROOT / "server/src/config.rs")
    names = set(re.findall(r'env\s*=\s*"([A-Z0-9_]+)"', text))
    names.update(re.findall(r'var_os\("([A-Z0-9_]+)"\)', text))  # GATEHOUSE_CONFIG_FILE
    return names


def cli_subcommands():
    text = read(ROOT / "server/src/cli/mod.rs")
    body = re.search(r"pub enum Command \{(.*?)\n\}", text, re.S).group(1)
    variants = re.findall(r"^\s{4}([A-Z][A-Za-z0-9]*)\s*[,({]", body, re.M)
    return {re.sub(r"(?<!^)([A-Z])", r"-\1", v).lower() for v in variants}


def ops_paths():
    return set(re.findall(r'\.route\("(/[a-z]+)"', read(ROOT / "server/src/ops.rs")))


def migration_tables():
    """Tables the migrations leave behind, in order (partitions excluded)."""
    tables = []
    for f in sorted((ROOT / "migrations").glob("*.sql")):
        sql = re.sub(r"--[^\n]*", "", read(f))
        for m in re.finditer(r"\b(CREATE TABLE(?: IF NOT EXISTS)?|DROP TABLE(?: IF EXISTS)?)\s+(\w+)([^;]*)", sql, re.I):
            verb, name, rest = m.group(1).upper(), m.group(2), m.group(3)
            if verb.startswith("CREATE"):
                if re.search(r"\bPARTITION OF\b", rest, re.I):
                    continue
                if name not in tables:
                    tables.append(name)
            elif name in tables:
                tables.remove(name)
    return tables


# --- loading --------------------------------------------------------------------------------

def load_yaml_files():
    docs = {}  # path -> [doc]
    for path in sorted(list(DEPLOY.rglob("*.yaml")) + list(DEPLOY.rglob("*.yml"))):
        try:
            loaded = [d for d in yaml.safe_load_all(read(path)) if d is not None]
        except yaml.YAMLError as e:
            R.fail(f"yaml {rel(path)}", str(e).replace("\n", " "))
            continue
        if R.check(f"yaml {rel(path)}", bool(loaded), "no document"):
            docs[path] = loaded
    return docs


def schema(name):
    return json.loads(read(DEPLOY / "schemas" / name))


def schema_errors(instance, sch):
    validator = jsonschema.Draft202012Validator(sch)
    return sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))


def where(error):
    return "/".join(str(p) for p in error.absolute_path) or "(root)"


# --- Kubernetes objects ---------------------------------------------------------------------

def validate_objects(docs):
    for sch_name in set(CUSTOM_SCHEMAS.values()) | set(FILE_SCHEMAS.values()):
        try:
            jsonschema.Draft202012Validator.check_schema(schema(sch_name))
            R.ok(f"schema {sch_name}")
        except jsonschema.SchemaError as e:
            R.fail(f"schema {sch_name}", e.message)
    objects = []
    for path, loaded in docs.items():
        relpath = str(path.relative_to(DEPLOY))
        if relpath in FILE_SCHEMAS:
            for doc in loaded:
                errors = schema_errors(doc, schema(FILE_SCHEMAS[relpath]))
                R.check(f"schema {rel(path)}", not errors,
                        "; ".join(f"{where(e)}: {e.message}" for e in errors[:5]))
            continue
        for doc in loaded:
            if not isinstance(doc, dict) or "apiVersion" not in doc or "kind" not in doc:
                R.fail(f"object in {rel(path)}", "not a Kubernetes object (apiVersion, kind)")
                continue
            name = f"{doc['kind']}/{doc.get('metadata', {}).get('name', '?')} ({rel(path)})"
            key = (doc["apiVersion"], doc["kind"])
            if key in CUSTOM_SCHEMAS:
                errors = schema_errors(doc, schema(CUSTOM_SCHEMAS[key]))
                R.check(f"schema {name}", not errors,
                        "; ".join(f"{where(e)}: {e.message}" for e in errors[:5]))
            else:
                for version in K8S_VERSIONS:
                    try:
                        kubernetes_validate.validate(doc, version, strict=True)
                        R.ok(f"kubernetes {version} {name}")
                    except kubernetes_validate.ValidationError as e:
                        R.fail(f"kubernetes {version} {name}", f"{where(e)}: {e.message}")
                    except kubernetes_validate.SchemaNotFoundError as e:
                        R.fail(f"kubernetes {version} {name}", e.message)
            objects.append((path, doc))
    return objects


def of_kind(objects, kind, name=None):
    return [d for _, d in objects if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def selects(selector, labels):
    match = (selector or {}).get("matchLabels") or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def pod_specs(objects):
    for _, d in objects:
        if d["kind"] in ("Deployment", "Job"):
            yield d, d["spec"]["template"]


def check_workloads(objects, env_names, subcommands):
    kinds = {d["kind"] for _, d in objects}
    for kind in ("Namespace", "ServiceAccount", "ConfigMap", "Secret", "Deployment", "Service",
                 "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy", "Job",
                 "Cluster", "PodMonitor", "PrometheusRule"):
        R.check(f"manifest {kind} present", kind in kinds, "missing")
    for _, d in objects:
        if d["kind"] not in ("Namespace", "Kustomization"):
            R.check(f"namespace of {d['kind']}/{d['metadata']['name']}",
                    d["metadata"].get("namespace") == NAMESPACE,
                    f"expected namespace {NAMESPACE}")
    images = set()
    secrets = {d["metadata"]["name"]: set((d.get("stringData") or {}) | (d.get("data") or {}))
               for d in of_kind(objects, "Secret")}
    configmaps = {d["metadata"]["name"]: d.get("data") or {} for d in of_kind(objects, "ConfigMap")}
    for d, template in pod_specs(objects):
        who = f"{d['kind']}/{d['metadata']['name']}"
        spec = template["spec"]
        psc = spec.get("securityContext") or {}
        R.check(f"{who} automountServiceAccountToken false",
                spec.get("automountServiceAccountToken") is False, "the pods never call the API")
        R.check(f"{who} seccomp RuntimeDefault",
                (psc.get("seccompProfile") or {}).get("type") == "RuntimeDefault", "missing")
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for c in spec["containers"]:
            cw = f"{who} container {c['name']}"
            csc = c.get("securityContext") or {}
            R.check(f"{cw} runAsNonRoot", csc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True
                    and (csc.get("runAsUser", psc.get("runAsUser")) or 0) != 0, "must run as non-root")
            R.check(f"{cw} readOnlyRootFilesystem", csc.get("readOnlyRootFilesystem") is True, "missing")
            R.check(f"{cw} allowPrivilegeEscalation false", csc.get("allowPrivilegeEscalation") is False, "missing")
            R.check(f"{cw} drops all capabilities",
                    (csc.get("capabilities") or {}).get("drop") == ["ALL"], "missing")
            res = c.get("resources") or {}
            for part in ("requests", "limits"):
                R.check(f"{cw} {part}", {"cpu", "memory"} <= set(res.get(part) or {}),
                        f"{part} for cpu and memory")
            images.add(c["image"])
            args = c.get("args") or []
            R.check(f"{cw} subcommand", bool(args) and args[0] in subcommands,
                    f"{args[:1]} is not a subcommand of gatehouse ({sorted(subcommands)})")
            for e in c.get("env", []):
                ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                if ref and not ref.get("optional"):
                    R.check(f"{cw} secret {ref['name']}/{ref['key']}",
                            ref["key"] in secrets.get(ref["name"], set()),
                            "key not in kubernetes/secret.example.yaml")
            for ef in c.get("envFrom", []):
                name = (ef.get("configMapRef") or {}).get("name")
                if name:
                    R.check(f"{cw} configmap {name}", name in configmaps, "no such ConfigMap")
            names = [e["name"] for e in c.get("env", [])]
            for ef in c.get("envFrom", []):
                names += list(configmaps.get((ef.get("configMapRef") or {}).get("name"), {}))
            for n in names:
                R.check(f"{cw} variable {n}", n in env_names, "not a setting in server/src/config.rs")
            for m in c.get("volumeMounts", []):
                R.check(f"{cw} mount {m['name']}", m["name"] in volumes, "no such volume")
            for v in volumes.values():
                sec = v.get("secret")
                if sec and not sec.get("optional"):
                    for item in sec.get("items", []):
                        R.check(f"{who} volume {v['name']} key {item['key']}",
                                item["key"] in secrets.get(sec["secretName"], set()),
                                "key not in kubernetes/secret.example.yaml")
            key_file = next((e.get("value") for e in c.get("env", [])
                             if e["name"] == "GATEHOUSE_MASTER_KEY_FILE"), None)
            if key_file:
                ok = False
                for m in c.get("volumeMounts", []):
                    sec = (volumes.get(m["name"]) or {}).get("secret") or {}
                    for item in sec.get("items", []):
                        ok |= key_file == f"{m['mountPath'].rstrip('/')}/{item['path']}"
                R.check(f"{cw} master key file mounted", ok, f"{key_file} is not a mounted secret item")
    R.check("one image for every container", len(images) == 1, f"images differ: {sorted(images)}")
    return images


def check_server(objects, paths):
    deployments = of_kind(objects, "Deployment")
    if not R.check("one Deployment", len(deployments) == 1, f"{len(deployments)} found"):
        return
    dep = deployments[0]
    pod_labels = dep["spec"]["template"]["metadata"]["labels"]
    R.check("Deployment selector matches its pods", selects(dep["spec"]["selector"], pod_labels), "no match")
    R.check("Deployment replicas >= 2", dep["spec"].get("replicas", 1) >= 2, "fewer than 2")
    c = dep["spec"]["template"]["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz"), ("startupProbe", "/healthz")):
        get = (c.get(probe) or {}).get("httpGet") or {}
        R.check(f"{probe} on {path}", get.get("path") == path and get.get("port") in ports,
                f"expected httpGet {path} on a named port, found {get}")
        R.check(f"{probe} path {path} served", path in paths, "not a route of server/src/ops.rs")
    for svc in of_kind(objects, "Service"):
        R.check(f"Service/{svc['metadata']['name']} selects the pods",
                selects({"matchLabels": svc["spec"].get("selector")}, pod_labels), "selector does not match")
        for p in svc["spec"]["ports"]:
            R.check(f"Service/{svc['metadata']['name']} port {p.get('name')}",
                    p.get("targetPort") in ports or p.get("targetPort") in ports.values(), "no such container port")
    for pdb in of_kind(objects, "PodDisruptionBudget"):
        R.check("PodDisruptionBudget selects the pods", selects(pdb["spec"]["selector"], pod_labels), "no match")
    for hpa in of_kind(objects, "HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        R.check("HPA targets the Deployment", ref["kind"] == "Deployment" and ref["name"] == dep["metadata"]["name"], str(ref))
        R.check("HPA minReplicas >= 2", hpa["spec"].get("minReplicas", 1) >= 2, "fewer than 2")
    policies = of_kind(objects, "NetworkPolicy")
    R.check("a NetworkPolicy selects the server pods", any(selects(p["spec"]["podSelector"], pod_labels) for p in policies), "none")
    for p in policies:
        if selects(p["spec"]["podSelector"], pod_labels):
            for rule in p["spec"].get("ingress", []):
                for port in rule.get("ports", []):
                    R.check(f"NetworkPolicy/{p['metadata']['name']} port {port['port']}",
                            port["port"] in ports or port["port"] in ports.values(), "not a container port")
    for job in of_kind(objects, "Job"):
        labels = job["spec"]["template"]["metadata"]["labels"]
        R.check(f"a NetworkPolicy selects Job/{job['metadata']['name']}",
                any(selects(p["spec"]["podSelector"], labels) for p in policies), "none")
        R.check(f"Job/{job['metadata']['name']} runs `migrate`",
                job["spec"]["template"]["spec"]["containers"][0].get("args") == ["migrate"], "args")
    for pm in of_kind(objects, "PodMonitor"):
        R.check("PodMonitor selects the server pods", selects(pm["spec"]["selector"], pod_labels), "no match")
        for ep in pm["spec"]["podMetricsEndpoints"]:
            R.check(f"PodMonitor port {ep.get('port')}", ep.get("port") in ports, "not a container port")
        job_label = pm["spec"].get("jobLabel")
        R.check("PodMonitor job is `gatehouse`", pod_labels.get(job_label) == "gatehouse",
                "the alerts and the dashboard select job=\"gatehouse\"")
    config = {}
    for cm in of_kind(objects, "ConfigMap"):
        config.update(cm.get("data") or {})
    R.check("metrics listener reachable in the pod", config.get("GATEHOUSE_METRICS_ADDR", "").startswith("0.0.0.0:")
            and config["GATEHOUSE_METRICS_ADDR"].split(":")[1] == str(ports.get("metrics")),
            "GATEHOUSE_METRICS_ADDR must listen on the metrics container port")
    R.check("HTTP listener is the http port", config.get("GATEHOUSE_ADDR", "").split(":")[-1] == str(ports.get("http")),
            "GATEHOUSE_ADDR must listen on the http container port")
    clusters = of_kind(objects, "Cluster")
    for cl in clusters:
        name = cl["metadata"]["name"]
        R.check(f"NetworkPolicy egress reaches Cluster/{name}",
                any(f"cnpg.io/cluster: {name}" in yaml.safe_dump(p) for p in policies), "no egress rule")
        max_conn = int(cl["spec"].get("postgresql", {}).get("parameters", {}).get("max_connections", 100))
        pool = int(config.get("GATEHOUSE_DB_MAX_CONNECTIONS", 10))
        for hpa in of_kind(objects, "HorizontalPodAutoscaler"):
            need = hpa["spec"]["maxReplicas"] * pool + 10
            R.check("connection budget", need <= max_conn,
                    f"maxReplicas x GATEHOUSE_DB_MAX_CONNECTIONS + 10 = {need} > max_connections {max_conn}")


def check_kustomizations(docs, images):
    releases = {}
    for path, loaded in docs.items():
        for doc in loaded:
            if doc.get("kind") != "Kustomization":
                continue
            here = path.parent
            listed = set()
            for res in doc["resources"]:
                R.check(f"{rel(path)} resource {res}", (here / res).is_file(), "no such file")
                listed.add(res)
            others = {p.name for p in here.glob("*.y*ml")} - {path.name, "secret.example.yaml"}
            R.check(f"{rel(path)} lists every manifest", others <= listed, f"not listed: {sorted(others - listed)}")
            for image in doc.get("images", []):
                R.check(f"{rel(path)} image {image['name']}", any(i.split(":")[0] == image["name"] for i in images),
                        "the manifests use another image")
            releases[rel(path)] = doc.get("images", [])
    R.check("kustomizations release the same image", len({json.dumps(v, sort_keys=True) for v in releases.values()}) == 1,
            f"the server and the migration job must run one release: {releases}")
    kubectl = shutil.which("kubectl")
    for kdir in ("kubernetes", "kubernetes/migrate"):
        if not kubectl:
            R.skip(f"kubectl kustomize {kdir}", "kubectl not installed")
            continue
        run = subprocess.run([kubectl, "kustomize", str(DEPLOY / kdir)], capture_output=True, text=True, timeout=120)
        R.check(f"kubectl kustomize {kdir}", run.returncode == 0, run.stderr.strip()[:300])


# --- PromQL ---------------------------------------------------------------------------------

class Metrics:
    def __init__(self):
        self.source = source_metrics()
        self.routes = source_routes()
        self.series = {}  # series name -> label names
        self.values = {}  # (series, label) -> allowed values, or "routes"
        for name, (kind, labels) in METRICS.items():
            if name not in self.source:
                continue
            names = [name] if kind != "histogram" else [f"{name}_bucket", f"{name}_sum", f"{name}_count"]
            for s in names:
                self.series[s] = set(labels) | ({"le"} if s.endswith("_bucket") else set())
                for label, values in labels.items():
                    if values is not None:
                        self.values[(s, label)] = values
        for name, labels in SYNTHETIC.items():
            self.series[name] = set(labels)

    def check_inventory(self):
        for name, (kind, files) in sorted(self.source.items()):
            if not R.check(f"metric {name} listed", name in METRICS, "exported by the code but missing from METRICS in deploy/validate.py"):
                continue
            R.check(f"metric {name} kind", METRICS[name][0] == kind, f"the code emits a {kind}")
            text = "".join(read(f) for f in files)
            for label, values in METRICS[name][1].items():
                R.check(f"metric {name} label {label}", f'"{label}"' in text, "label not found where the metric is emitted")
                if isinstance(values, set):
                    for v in sorted(values):
                        R.check(f"metric {name} {label}={v}", f'"{v}"' in text, "value not found where the metric is emitted")
        for name in sorted(set(METRICS) - set(self.source)):
            R.skip(f"metric {name}", "listed in METRICS but not emitted by the code (server/, app/, domain/): "
                   "unusable in rules and panels; drop it from the table if it is gone for good")

    def route_exists(self, route):
        return route in self.routes or (route.startswith("/api/") and route[4:] in self.routes)

    def check_expr(self, where, text):
        for var, value in GRAFANA_VARS.items():
            text = text.replace(var, value)
        try:
            expr = pq.parse(text)
        except ValueError as e:
            return R.fail(f"promql {where}", f"does not parse: {e}")
        problems = []
        nodes = []

        def visit(node):
            nodes.append(node)
            return True

        pq.walk(expr, visit)
        for node in nodes:
            if isinstance(node, pq.VectorSelector):
                problems += self.check_selector(node)
            elif isinstance(node, pq.AggregateExpr) and node.modifier is not None:
                known = self.labels_under(node.expr) | TARGET_LABELS
                for label in node.modifier.labels:
                    if label not in known:
                        problems.append(f"`{label}` in {node.op} {enum_name(node.modifier.type).lower()} (...) is no label of {sorted(self.names_under(node.expr))}")
            elif isinstance(node, pq.BinaryExpr) and node.modifier is not None and node.modifier.matching is not None:
                known = self.labels_under(node.lhs) | self.labels_under(node.rhs) | TARGET_LABELS
                for label in node.modifier.matching.labels:
                    if label not in known:
                        problems.append(f"`{label}` in on/ignoring (...) is no label of either side")
        R.check(f"promql {where}", not problems, "; ".join(problems))
        return expr

    def check_selector(self, node):
        name = node.name
        if not name:
            return ["a selector without a metric name"]
        if name not in self.series:
            return [f"`{name}` is not a metric the code emits (nor Prometheus' own `up`)"]
        problems = []
        allowed = self.series[name] | TARGET_LABELS
        for m in node.matchers.matchers:
            if m.name == "__name__":
                continue
            if m.name not in allowed:
                problems.append(f"`{name}` has no label `{m.name}`")
                continue
            values = self.values.get((name, m.name))
            if values is None:
                continue
            op = enum_name(m.op)
            wanted = m.value.split("|") if op in ("Re", "NotRe") else [m.value]
            for v in wanted:
                if re.search(r"[\\^$*+?()\[\]{}]", v.replace(".", "")):
                    continue  # a real pattern, not a list of values
                if values == "routes":
                    if not self.route_exists(v):
                        problems.append(f"route `{v}` is not a route of the server")
                elif v not in values:
                    problems.append(f"`{name}{{{m.name}=\"{v}\"}}`: the code gives {m.name} only {sorted(values)}")
        return problems

    def names_under(self, node):
        names = set()

        def visit(n):
            if isinstance(n, pq.VectorSelector) and n.name:
                names.add(n.name)
            return True

        pq.walk(node, visit)
        return names

    def labels_under(self, node):
        labels = set()
        for name in self.names_under(node):
            labels |= self.series.get(name, set())
        return labels


def enum_name(value):
    """promql-parser's enums print as `Type.Variant`."""
    return str(value).rsplit(".", 1)[-1]


def output_labels(node, metrics):
    """The labels an expression's result carries, or None when unsure."""
    if isinstance(node, pq.ParenExpr):
        return output_labels(node.expr, metrics)
    if isinstance(node, pq.VectorSelector):
        return metrics.series.get(node.name, set()) | TARGET_LABELS
    if isinstance(node, pq.MatrixSelector):
        return output_labels(node.vector_selector, metrics)
    if isinstance(node, pq.AggregateExpr):
        if str(node.op) in ("topk", "bottomk", "limitk", "limit_ratio"):
            return output_labels(node.expr, metrics)  # these keep every label
        if node.modifier is None:
            return set()
        if enum_name(node.modifier.type) == "By":
            return set(node.modifier.labels)
        inner = output_labels(node.expr, metrics)
        return None if inner is None else inner - set(node.modifier.labels)
    if isinstance(node, pq.Call):
        fname = node.func.name
        if fname == "absent":
            arg = node.args[0]
            if isinstance(arg, pq.VectorSelector):
                return {m.name for m in arg.matchers.matchers if enum_name(m.op) == "Equal"}
            return set()
        vectors = [a for a in node.args if not isinstance(a, (pq.NumberLiteral, pq.StringLiteral))]
        if not vectors:
            return set()
        inner = output_labels(vectors[-1], metrics)
        if fname == "histogram_quantile" and inner is not None:
            return inner - {"le"}
        return inner
    if isinstance(node, pq.BinaryExpr):
        lhs, rhs = output_labels(node.lhs, metrics), output_labels(node.rhs, metrics)
        scalar_l = isinstance(node.lhs, pq.NumberLiteral)
        scalar_r = isinstance(node.rhs, pq.NumberLiteral)
        if scalar_r:
            return lhs
        if scalar_l:
            return rhs
        mod = node.modifier
        if lhs is None:
            return None
        if mod is not None and mod.matching is not None and enum_name(mod.card) == "OneToOne" and str(node.op) not in ("and", "unless", "or"):
            labels = set(mod.matching.labels)
            return lhs & labels if enum_name(mod.matching.type) == "Include" else lhs - labels
        return lhs
    return None


def check_rules(docs, metrics):
    path = DEPLOY / "monitoring/gatehouse-alerts.yml"
    rules_doc = docs.get(path, [None])[0]
    crd = next((d for d in docs.get(DEPLOY / "monitoring/prometheusrule.yaml", []) if d.get("kind") == "PrometheusRule"), None)
    if not R.check("alert rules loaded", rules_doc is not None and crd is not None, "missing"):
        return
    R.check("PrometheusRule carries gatehouse-alerts.yml's groups", crd["spec"]["groups"] == rules_doc["groups"],
            "monitoring/prometheusrule.yaml and monitoring/gatehouse-alerts.yml differ")
    seen = set()
    for group in rules_doc["groups"]:
        for rule in group["rules"]:
            name = rule.get("alert") or rule.get("record")
            R.check(f"rule {name} unique", name not in seen, "two rules with this name")
            seen.add(name)
            expr = metrics.check_expr(f"rule {name}", str(rule["expr"]))
            if "alert" not in rule:
                continue
            R.check(f"rule {name} severity", rule.get("labels", {}).get("severity") in SEVERITIES,
                    f"labels.severity must be one of {sorted(SEVERITIES)}")
            notes = rule.get("annotations", {})
            R.check(f"rule {name} annotations", {"summary", "description"} <= set(notes), "summary and description")
            if isinstance(expr, pq.Expr):
                out = output_labels(expr, metrics)
                used = set(re.findall(r"\$labels\.([a-zA-Z_]\w*)", " ".join(notes.values())))
                if out is not None:
                    R.check(f"rule {name} $labels", used <= out,
                            f"the annotations use {sorted(used - out)}, which the expression's result does not carry")


def check_dashboard(metrics):
    path = DEPLOY / "monitoring/grafana-dashboard.json"
    try:
        dash = json.loads(read(path))
    except (OSError, json.JSONDecodeError) as e:
        return R.fail(f"json {rel(path)}", str(e))
    R.ok(f"json {rel(path)}")
    R.check("dashboard uid and title", bool(dash.get("uid")) and bool(dash.get("title")), "missing")
    variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
    R.check("dashboard datasource variable", variables.get("datasource", {}).get("type") == "datasource"
            and variables["datasource"].get("query") == "prometheus", "a `datasource` variable of Prometheus type")
    for name, var in variables.items():
        if var.get("type") == "query":
            q = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q)
            if R.check(f"dashboard variable {name}", bool(m), f"unexpected query {q}"):
                expr = metrics.check_expr(f"dashboard variable {name}", m.group(1))
                if isinstance(expr, pq.Expr):
                    R.check(f"dashboard variable {name} label", m.group(2) in metrics.labels_under(expr) | TARGET_LABELS,
                            f"`{m.group(2)}` is no label of the metric")
    panels = []

    def collect(items):
        for p in items:
            panels.append(p)
            collect(p.get("panels", []))

    collect(dash.get("panels", []))
    ids = [p.get("id") for p in panels]
    R.check("dashboard panel ids unique", len(ids) == len(set(ids)) and None not in ids, "duplicate or missing ids")
    R.check("dashboard has panels", sum(1 for p in panels if p.get("targets")) >= 10, "fewer than 10 graph panels")
    for p in panels:
        title = p.get("title", p.get("id"))
        gp = p.get("gridPos", {})
        R.check(f"panel {title} gridPos", {"h", "w", "x", "y"} <= set(gp) and gp["x"] + gp["w"] <= 24, str(gp))
        if p.get("type") != "row":
            R.check(f"panel {title} datasource", p.get("datasource", {}).get("uid") == "${datasource}", "use ${datasource}")
        for t in p.get("targets", []):
            R.check(f"panel {title} target datasource", t.get("datasource", {}).get("uid") == "${datasource}", "use ${datasource}")
            expr = metrics.check_expr(f"panel {title} {t.get('refId')}", t["expr"])
            used = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", t.get("legendFormat", "")))
            out = output_labels(expr, metrics) if isinstance(expr, pq.Expr) else None
            if used and out is not None:
                R.check(f"panel {title} {t.get('refId')} legend", used <= out,
                        f"the legend uses {sorted(used - out)}, which the expression's result does not carry")


# --- env names, Dockerfile, systemd, README -------------------------------------------------

def check_env_mentions(env_names):
    files = [DEPLOY / "Dockerfile", DEPLOY / "systemd/gatehouse.service", DEPLOY / "systemd/gatehouse.env.example",
             DEPLOY / "kubernetes/secret.example.yaml", DEPLOY / "README.md"]
    for f in files:
        if not f.exists():
            R.fail(f"file {rel(f)}", "missing")
            continue
        mentioned = set(re.findall(r"\b(GATEHOUSE_[A-Z0-9_]*[A-Z0-9]|DATABASE_URL)\b", read(f)))
        unknown = sorted(n for n in mentioned if n not in env_names and not n.endswith("_"))
        R.check(f"{rel(f)} names real settings", not unknown, f"not in server/src/config.rs: {unknown}")
    for line in read(DEPLOY / "systemd/gatehouse.env.example").splitlines():
        if line.strip() and not line.startswith("#"):
            key = line.split("=", 1)[0]
            R.check(f"gatehouse.env.example {key}", key in env_names, "not a setting in server/src/config.rs")


def check_dockerfile():
    text = read(DEPLOY / "Dockerfile")
    setup = read(ROOT / "scripts/setup.sh")
    for var in ("CARGO_LEPTOS_VERSION", "SCALAR_VERSION"):
        want = re.search(rf"^{var}=(\S+)", setup, re.M)
        have = re.search(rf"^ARG {var}=(\S+)", text, re.M)
        R.check(f"Dockerfile {var}", bool(want and have and want.group(1) == have.group(1)),
                f"scripts/setup.sh has {want and want.group(1)}, the Dockerfile {have and have.group(1)}")
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.M)
    R.check("Dockerfile multi-stage", len(stages) >= 2, "one stage")
    R.check("Dockerfile builds with cargo-leptos", "cargo leptos build --release" in text, "no release build")
    R.check("Dockerfile builds in a Rust image", stages and stages[0][0].startswith("rust:"), stages and stages[0][0])
    R.check("Dockerfile runs in slim Debian", stages and re.match(r"debian:\S*-slim$", stages[-1][0]), stages and stages[-1][0])
    final = text[text.rindex("\nFROM "):]
    user = re.findall(r"^USER\s+(\S+)", final, re.M)
    R.check("Dockerfile non-root user", bool(user) and user[-1].split(":")[0] not in ("0", "root"), str(user))
    R.check("Dockerfile copies the binary and the site", "/usr/local/bin/gatehouse" in final and "/site " in final
            and "cp -r target/site" in text, "COPY of target/release/gatehouse and target/site")
    R.check("Dockerfile HEALTHCHECK on /readyz", re.search(r"^HEALTHCHECK[^\n]*(\\\n[^\n]*)*/readyz", text, re.M) is not None,
            "no HEALTHCHECK on /readyz")
    site = re.search(r"GATEHOUSE_SITE_ROOT=(\S+)", final)
    R.check("Dockerfile site root is where the site is copied", bool(site) and f"COPY --from=build /out/site {site.group(1)}" in final,
            "GATEHOUSE_SITE_ROOT must name the copied site")


def unit_directives(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            k, v = line.split("=", 1)
            out.setdefault(k.strip(), []).append(v.strip())
    return out


def check_systemd():
    path = DEPLOY / "systemd/gatehouse.service"
    text = read(path)
    d = unit_directives(text)
    want = {"ProtectSystem": "strict", "NoNewPrivileges": "yes", "Restart": "on-failure",
            "PrivateTmp": "yes", "ProtectHome": "yes"}
    for k, v in want.items():
        R.check(f"systemd {k}={v}", v in d.get(k, []), "missing")
    R.check("systemd DynamicUser or User", "yes" in d.get("DynamicUser", []) or bool(d.get("User")), "missing")
    R.check("systemd EnvironmentFile", bool(d.get("EnvironmentFile")), "missing")
    R.check("systemd runs `gatehouse serve`", any(v.endswith("gatehouse serve") for v in d.get("ExecStart", [])), "ExecStart")
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        R.skip("systemd-analyze verify", "systemd-analyze not installed")
        return
    with tempfile.TemporaryDirectory() as tmp:
        # verify wants the ExecStart binary to exist: check the unit with a stand-in.
        unit = Path(tmp) / "gatehouse.service"
        unit.write_text(re.sub(r"^ExecStart=\S+", "ExecStart=/bin/true", text, flags=re.M))
        run = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
        noise = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
        R.check("systemd-analyze verify", run.returncode == 0 and not noise, " | ".join(noise)[:400])
        run = subprocess.run([analyze, "security", "--offline=yes", str(path)], capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", run.stdout + run.stderr)
        if m:
            R.check("systemd-analyze security exposure <= 2.0", float(m.group(1)) <= 2.0, f"exposure {m.group(1)}")
        else:
            R.skip("systemd-analyze security", "this systemd cannot analyse a unit file offline")


def check_readme_tables():
    if not (DEPLOY / "README.md").exists():
        return R.fail("README Citus section", "deploy/README.md is missing")
    text = read(DEPLOY / "README.md")
    start = text.find("## Spreading tenants over Citus")
    if not R.check("README Citus section", start >= 0, "no `## Spreading tenants over Citus` section"):
        return
    section = text[start:]
    nxt = section.find("\n## ", 3)
    section = section if nxt < 0 else section[:nxt]
    named = set(re.findall(r"`([a-z_][a-z0-9_]*)`", section))
    tables = migration_tables()
    R.check("migrations define tables", len(tables) > 20, f"{len(tables)} found")
    missing = [t for t in tables if t not in named]
    R.check("README Citus section names every table", not missing, f"not classified: {missing}")


def package_version(name):
    from importlib.metadata import version
    return version(name)


def main():
    env_names = config_env_names() | {"DATABASE_URL"}
    docs = load_yaml_files()
    objects = validate_objects(docs)
    subcommands = cli_subcommands()
    R.check("gatehouse has `serve` and `migrate`", {"serve", "migrate"} <= subcommands, str(sorted(subcommands)))
    images = check_workloads(objects, env_names, subcommands)
    check_server(objects, ops_paths())
    check_kustomizations(docs, images)
    metrics = Metrics()
    metrics.check_inventory()
    check_rules(docs, metrics)
    check_dashboard(metrics)
    check_env_mentions(env_names)
    check_dockerfile()
    check_systemd()
    check_readme_tables()
    print(f"checked with kubernetes-validate {kv_version.__version__} (Kubernetes {', '.join(K8S_VERSIONS)}), "
          f"promql-parser {package_version('promql-parser')}, jsonschema {package_version('jsonschema')}")
    if R.skipped:
        print(f"skipped: {', '.join(R.skipped)}")
    print(f"deploy: {R.passed} passed, {len(R.failed)} failed")
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
