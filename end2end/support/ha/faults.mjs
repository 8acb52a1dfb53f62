// The fault checks of the high-availability scenario (issue 21, part 3): mail and webhooks
// while their receivers are down, and a read-only mail directory. scripts/ha_test.sh and
// bench/ha/bench.sh start and stop the processes through end2end/support/ha/lib.sh; this
// does the HTTP work, the waiting and the arithmetic.
//
//   node faults.mjs hook-setup --port P    a tenant endpoint of acme for `user.invited`, at the
//                                          receiver on 127.0.0.1:P (secret: HA_SECRETS/hook.json)
//   node faults.mjs receiver --port P --out FILE
//                                          the receiver: verifies every delivery with the npm
//                                          `standardwebhooks` library, appends one JSON line
//                                          per delivery to FILE (survives its restarts), 204
//   node faults.mjs invite --label L --count N [--seconds S] [--base URL]
//                                          N invitations to acme (operator token), spread over
//                                          S seconds, through the load balancer (or URL): each
//                                          must be 201; HA_RAW/invites-L.json
//   node faults.mjs wait-delivered --labels L1,L2 --sink URL --hooks FILE --timeout S
//                                          until every invited address has its mail at the SMTP
//                                          sink and its `user.invited` event at the receiver;
//                                          prints the counts and when each last one came
//   node faults.mjs wait-files --label L --dir DIR --timeout S
//                                          until every invited address has its .eml file in DIR
//   node faults.mjs analyze-downstream TIMES.json WAITING.json DELIVERED.json FINAL.json LOAD.json BEFORE.json
//   node faults.mjs analyze-readonly TIMES.json WAITING.json FILES.json FINAL.json LOAD.json
//
// Environment: as scenario.mjs (HA_LB_URL, HA_SECRETS, HA_RUN, HA_ASSERT), and HA_RAW.
// Addresses are fault-L-i-RUN@acme.test. Secrets (the endpoint's, tokens) are never printed.
import { appendFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import standardwebhooks from 'standardwebhooks';
import {
  INSTANCES, call, check, die, env, finish, log, parseArgs, readJson, round, said, sleep, tokens, writePrivate,
} from './common.mjs';

const { Webhook } = standardwebhooks;
const now = () => Date.now();
const hookFile = () => `${env('HA_SECRETS')}/hook.json`;
const invitesFile = (label) => `${env('HA_RAW')}/invites-${label}.json`;
const addressOf = (label, i) => `fault-${label}-${i}-${env('HA_RUN')}@acme.test`;

async function hookSetup() {
  const { LB } = INSTANCES();
  const url = `http://127.0.0.1:${argv.port}/hook`;
  const r = await call(LB, 'POST', '/api/v1/webhooks?tenant=acme', {
    token: tokens().operator,
    // A throttle above the backlog's pace, so the catch-up is the receiver's, not the throttle's.
    json: { url, description: 'HA faults receiver', event_types: ['user.invited'], rate_limit_per_second: 500 },
  });
  check(r.status === 201 && r.json?.secret?.startsWith('whsec_'), 'the webhook endpoint is registered (201, a whsec_ secret)', r.status === 201 ? undefined : said(r));
  writePrivate(hookFile(), { id: r.json?.id, secret: r.json?.secret });
  finish({ step: 'hook-setup', endpoint: r.json?.id ?? null });
}

function receiver() {
  const { secret } = readJson(hookFile());
  const hook = new Webhook(secret);
  const out = argv.out ?? die('receiver: --out FILE');
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let verified = false;
      let event = null;
      try {
        event = hook.verify(body, req.headers);
        verified = true;
      } catch { /* recorded as unverified */ }
      appendFileSync(out, `${JSON.stringify({
        at: now(), id: req.headers['webhook-id'] ?? null, verified,
        type: event?.type ?? null, email: event?.data?.email ?? null,
      })}\n`);
      res.writeHead(verified ? 204 : 400).end();
    });
  });
  server.listen(Number(argv.port), '127.0.0.1', () => log(`webhook receiver on ${argv.port}`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

async function invite() {
  const label = argv.label ?? die('invite: --label');
  const count = Number(argv.count ?? 1);
  const spread = Number(argv.seconds ?? 0) * 1000;
  const base = argv.base ?? INSTANCES().LB;
  const token = tokens().operator;
  const started = now();
  const invited = [];
  const refused = [];
  for (let i = 0; i < count; i++) {
    const due = started + (count > 1 ? (spread * i) / (count - 1) : 0);
    if (due > now()) await sleep(due - now());
    const email = addressOf(label, i);
    const r = await call(base, 'POST', '/api/v1/users?tenant=acme', { token, json: { email, name: `Fault ${label} ${i}` } });
    if (r.status === 201) invited.push({ email, id: r.json?.id, at: now(), instance: r.instance ?? null });
    else refused.push({ email, said: said(r) });
  }
  writePrivate(invitesFile(label), invited);
  check(refused.length === 0, `${label}: ${count} invitations answered 201, the API not waiting for mail or webhooks`, refused.slice(0, 3));
  finish({ step: 'invite', label, invited: invited.length, seconds: round((now() - started) / 1000, 2) });
}

const invitedOf = (labels) => labels.flatMap((l) => readJson(invitesFile(l)));

/// The SMTP sink's messages (end2end/support/smtp_sink.py), or null when it does not answer.
async function sinkMessages(sink) {
  try {
    const res = await fetch(`${sink}/messages`, { signal: AbortSignal.timeout(5000) });
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}

function hookLines(path) {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

async function waitDelivered() {
  const labels = String(argv.labels ?? die('wait-delivered: --labels')).split(',');
  const sink = argv.sink ?? die('wait-delivered: --sink URL');
  const hooks = argv.hooks ?? die('wait-delivered: --hooks FILE');
  const deadline = now() + Number(argv.timeout ?? 60) * 1000;
  const wanted = new Set(invitedOf(labels).map((p) => p.email));
  let mails = [];
  let events = [];
  const lastMailAt = {};
  while (true) {
    const messages = (await sinkMessages(sink)) ?? [];
    for (const m of messages) {
      const to = (m.to ?? []).map((t) => t.toLowerCase()).find((t) => wanted.has(t));
      if (to && !(m.message_id in lastMailAt)) lastMailAt[m.message_id] = now();
    }
    mails = messages.filter((m) => (m.to ?? []).some((t) => wanted.has(t.toLowerCase())));
    events = hookLines(hooks).filter((e) => e.type === 'user.invited' && wanted.has(e.email));
    const mailed = new Set(mails.flatMap((m) => m.to.map((t) => t.toLowerCase())));
    const hooked = new Set(events.filter((e) => e.verified).map((e) => e.email));
    if ((mailed.size === wanted.size && hooked.size === wanted.size) || now() > deadline) break;
    await sleep(100);
  }
  const mailed = new Set(mails.flatMap((m) => m.to.map((t) => t.toLowerCase())));
  const ids = mails.map((m) => m.message_id);
  const hookIds = events.map((e) => e.id);
  const out = {
    labels, invited: wanted.size,
    mails: { received: mails.length, addresses: mailed.size, distinct_message_ids: new Set(ids).size, last_at: Math.max(0, ...Object.values(lastMailAt)) || null },
    webhooks: {
      received: events.length, verified: events.filter((e) => e.verified).length,
      addresses: new Set(events.map((e) => e.email)).size, distinct_ids: new Set(hookIds).size,
      last_at: Math.max(0, ...events.map((e) => e.at)) || null,
    },
  };
  writePrivate(`${env('HA_RAW')}/delivered-${labels.join('+')}.json`, out);
  console.log(JSON.stringify(out));
}

async function waitFiles() {
  const label = argv.label ?? die('wait-files: --label');
  const dir = argv.dir ?? die('wait-files: --dir');
  const deadline = now() + Number(argv.timeout ?? 60) * 1000;
  const wanted = new Set(invitedOf([label]).map((p) => p.email));
  let found = new Map();
  while (true) {
    found = new Map();
    for (const name of existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.eml')) : []) {
      const text = readFileSync(`${dir}/${name}`, 'utf8');
      const to = /^To: (.*)$/m.exec(text)?.[1]?.trim().toLowerCase();
      if (to && wanted.has(to)) found.set(name, to);
    }
    if (new Set(found.values()).size === wanted.size || now() > deadline) break;
    await sleep(100);
  }
  const out = { label, invited: wanted.size, files: found.size, addresses: new Set(found.values()).size, at: now() };
  writePrivate(`${env('HA_RAW')}/files-${label}.json`, out);
  console.log(JSON.stringify(out));
}

/// The steady load's outcome (load.mjs's report), in short.
function loadFigures(load) {
  return { sent: load.sent, failed: load.failed, error_counts: load.error_counts, latency_ms: load.latency_ms };
}

function analyzeDownstream(timesPath, waitingPath, deliveredPath, finalPath, loadPath, beforePath) {
  const t = readJson(timesPath);
  const waiting = readJson(waitingPath);
  const delivered = readJson(deliveredPath);
  const final = readJson(finalPath);
  const load = readJson(loadPath);
  const before = readJson(beforePath);
  const invited = delivered.invited;
  const out = {
    step: 'downstream',
    down_ms: t.back - t.down,
    invited_while_down: t.invited_while_down,
    while_down: waiting,
    mail: {
      received: delivered.mails.received, distinct: delivered.mails.distinct_message_ids,
      all_delivered_after_back_ms: delivered.mails.last_at ? delivered.mails.last_at - t.back : null,
    },
    webhooks: {
      received: delivered.webhooks.received, verified: delivered.webhooks.verified, distinct: delivered.webhooks.distinct_ids,
      all_delivered_after_back_ms: delivered.webhooks.last_at ? delivered.webhooks.last_at - t.back : null,
    },
    final,
    load: loadFigures(load),
  };
  const n = t.invited_while_down;
  check(before.mails.received === 1 && before.webhooks.verified === 1, 'before the outage an invitation\'s mail and event arrive', { mails: before.mails.received, events: before.webhooks.verified });
  check(waiting.mail.pending === n && waiting.mail.attempts_spent === 0, `while SMTP was down: the ${n} mails waited, no attempt spent`, waiting.mail);
  // The mails in a worker's hands when it found SMTP down carry the reason; those queued
  // afterwards wait untried. The operator dashboard shows the latest reason.
  check(waiting.mail.with_error >= 1 && /connect|refused/i.test(waiting.mail.error ?? ''), 'the outbox keeps the reason (the operator dashboard shows it)', waiting.mail.error);
  check(waiting.webhooks.pending === n && waiting.webhook_failed_attempts >= n, `while the receiver was down: the ${n} events waited after failed attempts`, { ...waiting.webhooks, failed_attempts: waiting.webhook_failed_attempts });
  check(delivered.mails.addresses === invited && delivered.mails.received === invited, `after SMTP came back: every mail delivered, each once (${delivered.mails.received} of ${invited})`);
  check(delivered.mails.distinct_message_ids === delivered.mails.received, 'no mail sent twice (distinct Message-IDs)');
  check(delivered.webhooks.addresses === invited && delivered.webhooks.verified === delivered.webhooks.received, `after the receiver came back: every event delivered with a valid signature (${delivered.webhooks.addresses} of ${invited})`);
  check(delivered.webhooks.distinct_ids === delivered.webhooks.received, 'no event delivered twice (distinct webhook-ids)', { received: delivered.webhooks.received, distinct: delivered.webhooks.distinct_ids });
  check(final.mail_sent === invited && final.mail_pending === 0, 'the outbox shows every mail sent', final);
  check(final.deliveries_delivered === invited && final.deliveries_pending === 0, 'every delivery is delivered', final);
  check(load.failed === 0 && load.sent > 0, `nothing else stopped: ${load.sent} requests during the outage, none failed`, loadFigures(load));
  finish(out);
}

function analyzeReadonly(timesPath, waitingPath, filesPath, finalPath, loadPath) {
  const t = readJson(timesPath);
  const waiting = readJson(waitingPath);
  const files = readJson(filesPath);
  const final = readJson(finalPath);
  const load = readJson(loadPath);
  const n = files.invited;
  const out = {
    step: 'mail_readonly', method: t.method, read_only_ms: t.writable - t.readonly,
    while_read_only: waiting, pages_while_read_only: t.pages,
    written_after_writable_ms: files.at - t.writable, files: files.files, final, load: loadFigures(load),
  };
  check(waiting.pending === n && waiting.attempts_spent === 0, `while the mail directory was read-only: the ${n} mails waited, no attempt spent`, waiting);
  check(waiting.with_error >= 1 && new RegExp(t.expect_error, 'i').test(waiting.error ?? ''), `the outbox keeps the reason ("${t.expect_error}")`, waiting.error);
  check(String(t.logged_once) === 'true', 'the instance logged the outage as an error', t.logged_once);
  check(Object.values(t.pages).every((s) => s === 200), 'sign-in page, readiness and the API answered 200 meanwhile', t.pages);
  check(load.failed === 0 && load.sent > 0, `nothing else stopped: ${load.sent} requests meanwhile, none failed`, loadFigures(load));
  check(files.addresses === n && files.files === n, `once writable: every mail written, each once (${files.files} files for ${n})`);
  check(final.mail_sent === n && final.mail_pending === 0, 'the outbox shows every mail sent', final);
  finish(out);
}

// --- main -------------------------------------------------------------------------------------
const { command, argv, positional, need } = parseArgs(process.argv.slice(2));
switch (command) {
  case 'hook-setup': await hookSetup(); break;
  case 'receiver': receiver(); break;
  case 'invite': await invite(); break;
  case 'wait-delivered': await waitDelivered(); break;
  case 'wait-files': await waitFiles(); break;
  case 'analyze-downstream': need(6); analyzeDownstream(...positional); break;
  case 'analyze-readonly': need(5); analyzeReadonly(...positional); break;
  default: die('usage: faults.mjs hook-setup|receiver|invite|wait-delivered|wait-files|analyze-downstream|analyze-readonly');
}
