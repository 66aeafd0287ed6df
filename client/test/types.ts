/**
 * Compile-time checks of the typed catalog (type-checked by `npm test` via `tsc -p client`, never run):
 * each `@ts-expect-error` fails the type check if the line below it stops being an error.
 */
import { createClient, unregistered } from '../src/index';

const client = createClient({ endpoint: 'http://127.0.0.1:3000', apiKey: 'k' });

// Registered types, with their usual details keys suggested and other keys still allowed.
client.log({ type: 'payment.charge.failed', record: { type: 'invoice', id: 'INV-1001' }, details: { amount: 42, currency: 'EUR', gateway: 'stripe' } });
client.log({ type: 'user.login.failed', actor: { userId: 'u-1' } });

// @ts-expect-error a misspelt type does not compile
client.log({ type: 'payment.charge.faild' });

// @ts-expect-error an unregistered type needs the escape hatch
client.log({ type: 'billing.trial.extended', category: 'payment' });

// The escape hatch: deliberately unregistered.
client.log({ type: unregistered('billing.trial.extended'), category: 'payment' });

// @ts-expect-error severity is one of the five
client.log({ type: 'server.error', severity: 'fatal' });

// @ts-expect-error a record needs its id
client.log({ type: 'file.deleted', record: { type: 'file' } });

// @ts-expect-error source is stamped by the server, not sent
client.log({ type: 'file.deleted', source: 'me' });

client.error(new Error('boom'), { type: 'job.failed', details: { job: 'nightly' } });
// @ts-expect-error error() context types are checked too
client.error(new Error('boom'), { type: 'job.faild' });
