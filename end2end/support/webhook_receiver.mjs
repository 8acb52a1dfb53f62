// Webhook receivers for the browser and API tests (end2end/tests/webhooks.test.mjs), each
// checking every delivery with an independent implementation of Standard Webhooks 1.0:
//
//   startReceiver()        an HTTP server on 127.0.0.1 in this process that verifies with
//                          the npm `standardwebhooks` library (the reference JavaScript one)
//                          and answers what the test tells it to (200, 500, 410, ...);
//   startPythonReceiver()  a receiver in a Python process of its own that verifies with the
//                          official Python `standardwebhooks` library (E2E_PYTHON, the
//                          browser tests' venv), as a receiver written in another language
//                          would. GET /received lists what it got.
//
// The server under test reaches them because scripts/test.sh runs it with
// GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE=true (plain http to loopback is refused otherwise).
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
// A CommonJS package: its default import is module.exports, whatever its build emits.
import standardwebhooks from 'standardwebhooks';

const { Webhook } = standardwebhooks;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/// Whether the npm library accepts `body` with `headers` under `secret` (a `whsec_` string).
/// The library also checks that webhook-timestamp is within 5 minutes of now.
export function verifies(secret, body, headers) {
  try {
    new Webhook(secret).verify(body, headers);
    return true;
  } catch {
    return false;
  }
}

/// Waits until `probe()` returns something truthy; returns it. Fails after `timeoutMs`
/// with `what` and the last value seen.
export async function until(probe, { timeoutMs = 20000, intervalMs = 200, what = 'the condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last;
    await sleep(intervalMs);
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms (last: ${JSON.stringify(last)?.slice(0, 500)})`);
}

/// A receiver on 127.0.0.1 (a free port). Every POST is recorded as a delivery:
///   { n, at (ms), path, id, timestamp, signatures: ['v1,...'], headers, body (the exact
///     text), event (parsed), verified (by one of the secrets given so far) }
/// and answered with `answer(n, delivery)` (an HTTP status; 200 by default). Give it the
/// endpoint's secret(s) with `setSecrets` once the endpoint exists.
export async function startReceiver({ answer = () => 200, path = '/hook' } = {}) {
  const deliveries = [];
  let secrets = [];
  let respond = answer;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' });
        res.end();
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = { ...req.headers };
      let event = null;
      try { event = JSON.parse(body); } catch { /* recorded as null */ }
      const delivery = {
        n: deliveries.length + 1,
        at: Date.now(),
        method: req.method,
        path: req.url,
        id: headers['webhook-id'],
        timestamp: headers['webhook-timestamp'],
        signatures: (headers['webhook-signature'] ?? '').split(' ').filter(Boolean),
        headers,
        body,
        event,
        verified: secrets.some((s) => verifies(s, body, headers)),
      };
      deliveries.push(delivery);
      let status = 200;
      try { status = respond(delivery.n, delivery); } catch { status = 500; }
      const reply = JSON.stringify({ received: delivery.n });
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
      res.end(reply);
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}${path}`,
    deliveries,
    setSecrets(...list) { secrets = list; },
    /// Changes what the receiver answers from now on.
    answerWith(fn) { respond = fn; },
    /// The first delivery (from now or already there) for which `match` holds.
    next(match = () => true, timeoutMs = 20000, what = 'a delivery') {
      return until(() => deliveries.find(match), { timeoutMs, intervalMs: 100, what: `${what} at ${port}` });
    },
    /// All deliveries for which `match` holds, once there are at least `count`.
    atLeast(count, match = () => true, timeoutMs = 20000, what = `${count} deliveries`) {
      return until(() => {
        const got = deliveries.filter(match);
        return got.length >= count ? got : null;
      }, { timeoutMs, intervalMs: 100, what: `${what} at ${port}` });
    },
    close() {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/// Follows `/api/v1/events/stream` (server-sent events) with a person's token. Resolves
/// once the answer's headers are in: { status, text (a refusal's body), events: [{id,
/// event, data}], next(match, timeoutMs), close() }.
export async function openEventStream(url, token, { lastEventId } = {}) {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'text/event-stream',
      ...(lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) }),
    },
    signal: abort.signal,
  });
  const events = [];
  const stream = {
    status: res.status,
    events,
    text: '',
    next(match = () => true, timeoutMs = 20000, what = 'a stream event') {
      return until(() => events.find(match), { timeoutMs, intervalMs: 100, what });
    },
    close() { abort.abort(); },
  };
  if (res.status !== 200) {
    stream.text = await res.text();
    return stream;
  }
  (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true }).replace(/\r/g, '');
        let end;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = { id: null, event: 'message', data: [] };
          for (const line of block.split('\n')) {
            if (!line || line.startsWith(':')) continue; // keep-alive comments
            const colon = line.indexOf(':');
            const field = colon === -1 ? line : line.slice(0, colon);
            const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'data') event.data.push(value);
            else if (field === 'id' || field === 'event') event[field] = value;
          }
          if (event.data.length) events.push({ ...event, data: event.data.join('\n') });
        }
      }
    } catch { /* closed by the test */ }
  })();
  return stream;
}

// The Python receiver: written for these tests (the test peers are not copied into the
// repository); it needs `standardwebhooks` in end2end/support/requirements.txt. It binds a
// free port, prints it on its first line, and answers 200 to a delivery the library
// verifies, 401 to one it refuses.
const PYTHON_RECEIVER = String.raw`
import json, os, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from standardwebhooks.webhooks import Webhook

SECRET = os.environ["WEBHOOK_SECRET"]
received, lock = [], threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with lock:
            self.reply(200, list(received))

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            Webhook(SECRET).verify(body, headers)
            verified, error = True, None
        except Exception as e:  # WebhookVerificationError, or a body that is not JSON
            verified, error = False, f"{type(e).__name__}: {e}"
        with lock:
            received.append({"id": headers.get("webhook-id"), "timestamp": headers.get("webhook-timestamp"),
                             "signature": headers.get("webhook-signature"), "verified": verified,
                             "error": error, "body": body.decode("utf-8", "replace")})
        self.reply(200 if verified else 401, {"verified": verified})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
`;

/// The Python receiver, verifying with `secret` (a `whsec_` string). Resolves once it
/// listens: { url, received() -> [{id, timestamp, signature, verified, error, body}], stop() }.
export async function startPythonReceiver(secret, { python = process.env.E2E_PYTHON ?? 'python3', path = '/hook' } = {}) {
  const child = spawn(python, ['-c', PYTHON_RECEIVER], {
    env: { ...process.env, WEBHOOK_SECRET: secret, PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => { stderr += c; });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { child.kill(); reject(new Error(`the Python receiver did not start within 15 s: ${stderr}`)); }, 15000);
    child.stdout.on('data', (c) => {
      out += c;
      const line = out.split('\n')[0];
      if (out.includes('\n') && /^\d+$/.test(line.trim())) { clearTimeout(timer); resolve(Number(line.trim())); }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the Python receiver exited (${code}) before listening (is standardwebhooks in ${python}'s environment? end2end/support/requirements.txt): ${stderr}`));
    });
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}${path}`,
    async received() { return (await fetch(`${base}/received`)).json(); },
    stop() {
      if (child.exitCode !== null) return Promise.resolve();
      return new Promise((resolve) => { child.once('exit', () => resolve()); child.kill('SIGTERM'); });
    },
  };
}
