// The benchmark's webhook receiver (bench/webhooks/bench.sh starts it): answers every
// delivery 200 at once, then checks its Standard Webhooks signature (HMAC-SHA256 of
// "{webhook-id}.{webhook-timestamp}.{body}" with the endpoint's whsec_ key, node:crypto) and
// records when it arrived and the `timestamp` the event's body carries (when the change
// was made), so bench.mjs can compute the delay from commit to delivery.
//
//   node bench/webhooks/receiver.mjs PORT
//   POST   /hook     a delivery (answered 200 before anything else is done)
//   POST   /_secret  {"secret": "whsec_..."}: the key to check signatures with
//   GET    /stats    {deliveries, unique, duplicates, bad_signatures, types, arrived_ms[], event_ms[]}
//                    (the arrays: one entry per first delivery of a `flag.updated` event)
//   DELETE /stats    forgets everything recorded
import http from 'node:http';
import { createHmac } from 'node:crypto';

const port = Number(process.argv[2] ?? 4790);
let key = null;
let state;
const reset = () => {
  state = { deliveries: 0, duplicates: 0, bad: 0, types: {}, seen: new Set(), arrived: [], events: [] };
};
reset();

/// An RFC 3339 time with any number of fraction digits, in ms since 1970 (fractional).
function parseTime(text) {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(text ?? '');
  return m ? Date.parse(`${m[1]}${m[3]}`) + (m[2] ? Number(m[2]) * 1000 : 0) : NaN;
}

function record(arrived, body, headers) {
  state.deliveries++;
  const id = headers['webhook-id'];
  const stamp = headers['webhook-timestamp'];
  if (key) {
    const expected = `v1,${createHmac('sha256', key).update(`${id}.${stamp}.`).update(body).digest('base64')}`;
    const fresh = Math.abs(Date.now() / 1000 - Number(stamp)) <= 300;
    if (!fresh || !(headers['webhook-signature'] ?? '').split(' ').includes(expected)) state.bad++;
  } else {
    state.bad++;
  }
  if (state.seen.has(id)) {
    state.duplicates++;
    return;
  }
  state.seen.add(id);
  let event = null;
  try { event = JSON.parse(body); } catch { /* counted under its type below */ }
  const type = event?.type ?? '(not JSON)';
  state.types[type] = (state.types[type] ?? 0) + 1;
  if (type === 'flag.updated') {
    state.arrived.push(arrived);
    state.events.push(parseTime(event.timestamp));
  }
}

const json = (res, status, value) => {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const arrived = Date.now();
    const body = Buffer.concat(chunks);
    if (req.method === 'POST' && req.url === '/hook') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
      res.end('ok');
      record(arrived, body, req.headers);
    } else if (req.method === 'POST' && req.url === '/_secret') {
      const { secret } = JSON.parse(body.toString('utf8'));
      key = Buffer.from(String(secret).replace(/^whsec_/, ''), 'base64');
      json(res, 200, { ok: true });
    } else if (req.method === 'GET' && req.url === '/stats') {
      json(res, 200, {
        deliveries: state.deliveries,
        unique: state.seen.size,
        duplicates: state.duplicates,
        bad_signatures: state.bad,
        types: state.types,
        arrived_ms: state.arrived,
        event_ms: state.events,
      });
    } else if (req.method === 'DELETE' && req.url === '/stats') {
      reset();
      json(res, 200, { ok: true });
    } else {
      json(res, 404, { error: 'not here' });
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => console.error(`bench/webhooks receiver on 127.0.0.1:${port}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
