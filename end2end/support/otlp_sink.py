#!/usr/bin/env python3
"""A stand-in OpenTelemetry collector for the tracing test (NFR-MON-001), standard library only.

Usage: python3 otlp_sink.py OUTPUT_FILE [PORT]
  Listens on 127.0.0.1:PORT (0 or absent: a free port) and prints
  "otlp sink ready on 127.0.0.1:PORT" once it accepts connections.
  POST /v1/traces  OTLP/HTTP export. JSON bodies (Gatehouse's exporter: http-json) are
                   decoded and each span is appended to OUTPUT_FILE as one JSON line:
                   {"name", "trace_id", "span_id", "parent_span_id", "kind", "service",
                    "scope", "status", "attributes": {key: value},
                    "events": [{"name", "attributes": {key: value}}]}
                   Protobuf bodies cannot be decoded without libraries: they are appended
                   as {"content_type", "raw"}, raw being the bytes as Latin-1 text, so the
                   strings inside (a request id) can still be grepped for.
  GET  /spans      the decoded spans received so far, as a JSON array.
  GET  /healthz    200 once ready.
Gatehouse sends here through GATEHOUSE_OTLP_ENDPOINT=http://127.0.0.1:PORT.
"""
import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OUTPUT = sys.argv[1]
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 0
spans, lock = [], threading.Lock()


def value(v):
    """An OTLP/JSON AnyValue as a plain value (intValue is a string in OTLP/JSON)."""
    if not isinstance(v, dict):
        return v
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "boolValue" in v:
        return v["boolValue"]
    if "doubleValue" in v:
        return v["doubleValue"]
    if "arrayValue" in v:
        return [value(x) for x in v["arrayValue"].get("values", [])]
    if "kvlistValue" in v:
        return attributes(v["kvlistValue"].get("values", []))
    if "bytesValue" in v:
        return v["bytesValue"]
    return None


def attributes(kvs):
    return {kv.get("key"): value(kv.get("value")) for kv in kvs or []}


def decode(request):
    """ExportTraceServiceRequest (OTLP/JSON) -> flat span records."""
    out = []
    for rs in request.get("resourceSpans", []):
        resource = attributes(rs.get("resource", {}).get("attributes"))
        for ss in rs.get("scopeSpans", []):
            scope = ss.get("scope", {}).get("name", "")
            for s in ss.get("spans", []):
                out.append({
                    "name": s.get("name", ""),
                    "trace_id": s.get("traceId", ""),
                    "span_id": s.get("spanId", ""),
                    "parent_span_id": s.get("parentSpanId", ""),
                    "kind": s.get("kind"),
                    "service": resource.get("service.name"),
                    "scope": scope,
                    "status": s.get("status", {}),
                    "attributes": attributes(s.get("attributes")),
                    "events": [
                        {"name": e.get("name", ""), "attributes": attributes(e.get("attributes"))}
                        for e in s.get("events", [])
                    ],
                })
    return out


def append(lines):
    with lock, open(OUTPUT, "a", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, sort_keys=True) + "\n")


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # the exporter keeps its connection open

    def reply(self, code, body=b"", content_type="application/json"):
        self.send_response(code)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
        else:
            data = self.rfile.read(int(self.headers.get("content-length") or 0))
        encoding = self.headers.get("content-encoding", "").lower()
        if encoding == "gzip":
            data = gzip.decompress(data)
        elif encoding not in ("", "identity"):
            raise ValueError(f"unsupported content-encoding {encoding}")
        return data

    def do_POST(self):
        if self.path.split("?")[0] != "/v1/traces":
            self.body()
            self.reply(404, b'{"error":"only /v1/traces"}')
            return
        try:
            data = self.body()
        except ValueError as e:
            self.reply(415, json.dumps({"error": str(e)}).encode())
            return
        content_type = self.headers.get("content-type", "")
        if "json" in content_type:
            try:
                received = decode(json.loads(data))
            except (ValueError, AttributeError) as e:
                self.reply(400, json.dumps({"error": f"not OTLP/JSON: {e}"}).encode())
                return
            with lock:
                spans.extend(received)
            append(received)
            # An empty ExportTraceServiceResponse: full success.
            self.reply(200, b"{}")
        else:
            append([{"content_type": content_type, "raw": data.decode("latin-1")}])
            self.reply(200, b"", "application/x-protobuf")

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/spans":
            with lock:
                self.reply(200, json.dumps(spans).encode())
        elif path == "/healthz":
            self.reply(200, b'{"status":"ok"}')
        else:
            self.reply(404, b'{"error":"not found"}')

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    open(OUTPUT, "a").close()
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Sink)
    server.daemon_threads = True
    print(f"otlp sink ready on 127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
