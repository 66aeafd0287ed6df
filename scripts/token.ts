import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { issueLocalToken } from '../local/tokens';
import type { UserGroup } from '../lib/declarations/routes';

/** `npm run token -- --role admin|viewer [--user alice@example.com] [--ttl 3600]`: a bearer token for the local stack. */
const { values } = parseArgs({
  options: { role: { type: 'string', default: 'admin' }, user: { type: 'string' }, ttl: { type: 'string' } },
});

issueLocalToken(resolve(process.env.LOCAL_DATA_DIR ?? '.local'), {
  role: values.role as UserGroup,
  user: values.user,
  ttlSeconds: values.ttl ? Number(values.ttl) : undefined,
})
  .then((token) => console.log(token))
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
