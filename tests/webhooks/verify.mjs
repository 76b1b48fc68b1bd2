// Verifies Lockbox webhook deliveries with `standardwebhooks`, the Standard
// Webhooks reference library nobody here wrote: the proof that receivers
// can check our signatures with their usual tools.
//
//   node tests/webhooks/verify.mjs SECRET < deliveries.json
//
// Standard input: a JSON array of {"headers": {name: value}, "body": "..."}
// as a receiver saw them.  Prints one line per delivery, "ok ID" or
// "bad ID: reason", and exits 0 when every one verifies, 1 otherwise, 2 on
// a usage error.  LOCKBOX_WEBHOOK_NOW_S (seconds since the epoch) replaces
// the clock for the timestamp tolerance, for a daemon on a test clock.
// Install the pinned library first: sh tests/webhooks/install.sh
import { Webhook } from 'standardwebhooks';

const [secret] = process.argv.slice(2);
if (!secret || process.argv.length > 3) {
  console.error('usage: node tests/webhooks/verify.mjs SECRET < deliveries.json');
  process.exit(2);
}

let text = '';
for await (const chunk of process.stdin) text += chunk;
let items;
try {
  items = JSON.parse(text);
} catch (err) {
  console.error(`standard input is not JSON: ${err.message}`);
  process.exit(2);
}
if (!Array.isArray(items)) {
  console.error('standard input must be a JSON array');
  process.exit(2);
}

const now = process.env.LOCKBOX_WEBHOOK_NOW_S;
const wh = new Webhook(secret.startsWith('whsec_') ? secret.slice(6) : secret);
let bad = 0;
for (const it of items) {
  const id = it?.headers?.['webhook-id'] ?? '?';
  try {
    if (now !== undefined && now !== '') {
      // The library checks the timestamp against Date.now(); pin it.
      const real = Date.now;
      Date.now = () => Number(now) * 1000;
      try {
        wh.verify(it.body, it.headers);
      } finally {
        Date.now = real;
      }
    } else {
      wh.verify(it.body, it.headers);
    }
    console.log(`ok ${id}`);
  } catch (err) {
    bad++;
    console.log(`bad ${id}: ${err.message}`);
  }
}
process.exit(bad ? 1 : 0);
