/**
 * Fingerprints: the message normaliser on real-world messages, the stack
 * parsers and the application-frame picker on real Node, Chrome, Firefox,
 * Safari, Python and Java stacks, and the fingerprint's stability and
 * sensitivity.
 */
import fc from 'fast-check';
import {
  endpointOf,
  fingerprintOf,
  isTrackedError,
  normalizeFile,
  normalizeMessage,
  parseStack,
  topApplicationFrame,
} from '../../lambdas/core/fingerprint';

describe('normalizeMessage', () => {
  test.each([
    ["Cannot read properties of undefined (reading 'total')", 'Cannot read properties of undefined (reading <str>)'],
    ['Order 12345 not found for user 8f14e45f-ceea-467f-a0e6-3c2a1b9f7d10', 'Order <n> not found for user <uuid>'],
    ['Event 01HZX3K9Q4M7N2P8R5T6V7W8XY rejected', 'Event <ulid> rejected'],
    ['Timeout after 30000ms calling https://api.stripe.com/v1/charges/ch_3NabcXYZ123?expand[]=customer#frag', 'Timeout after <n>ms calling https://api.stripe.com/v1/charges/<id>'],
    ['GET https://acme-42.example.com:8443/api/users/9876/avatar.png failed', 'GET https://acme-<n>.example.com/api/users/<n>/avatar.png failed'],
    ['fetch to http://10.0.3.17:8080/health failed', 'fetch to http://<ip>/health failed'],
    ['duplicate key value violates unique constraint "users_email_key"', 'duplicate key value violates unique constraint <str>'],
    ['Key (email)=(bob.smith+test@example.co.uk) already exists.', 'Key (email)=(<email>) already exists.'],
    ['connect ECONNREFUSED 10.0.3.17:5432', 'connect ECONNREFUSED <ip>'],
    ['connect ECONNREFUSED ::1:6379', 'connect ECONNREFUSED <ip>'],
    ['listen EADDRINUSE: address already in use 2001:db8::8a2e:370:7334', 'listen EADDRINUSE: address already in use <ip>'],
    ['Job started at 2026-11-23T10:15:00.123Z timed out at 2026-11-23 10:20:00+01:00', 'Job started at <time> timed out at <time>'],
    ['Cookie expired on Tue, 01 May 2024 10:15:00 GMT', 'Cookie expired on <time>'],
    ['Slow query (12:04:55.120)', 'Slow query (<time>)'],
    ['Segfault at 0x7ffd1234abcd in worker', 'Segfault at <hex> in worker'],
    ['Object 507f1f77bcf86cd799439011 vanished (commit 9fceb02d0ae598e95dc970b74767f19372d61af8)', 'Object <hex> vanished (commit <hex>)'],
    ['Invoice INV-1001 (INV1001) failed for cus_NffrFeUfNV2Hib', 'Invoice INV-<n> (<id>) failed for <id>'],
    ['Amount -12.50 exceeds limit 1,000.00', 'Amount <n> exceeds limit <n>'],
    ["KeyError: 'price'", 'KeyError: <str>'],
    ['Expected `string`, got ‘number’ in «field»', 'Expected <str>, got <str> in <str>'],
    // Apostrophes in words are not quotes.
    ["can't reach the user's cart", "can't reach the user's cart"],
    // Names with a small digit group are words, not ids.
    ['Int32Array of length 16 is not a valid utf8 buffer in v2.3.1', 'Int32Array of length <n> is not a valid utf8 buffer in v2.<n>.<n>'],
    // Only the first line, whitespace collapsed.
    ['  Database   unavailable  \n    at Pool.connect (pool.js:10:3)', 'Database unavailable'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(normalizeMessage(input)).toBe(expected);
  });

  test('occurrences of one failure normalise to one message whatever their ids, numbers and times', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.uuid(), fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }), fc.emailAddress(), (n, uuid, date, email) => {
        const message = `Order ${n} for ${email} (${uuid}) failed at ${date.toISOString()} after ${n % 997}ms`;
        return normalizeMessage(message) === 'Order <n> for <email> (<uuid>) failed at <time> after <n>ms';
      }),
    );
  });

  test('is idempotent: a normalised message normalises to itself', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const once = normalizeMessage(text);
        return normalizeMessage(once) === once;
      }),
    );
  });
});

describe('stacks', () => {
  test('Node.js (V8): async frames, [as x], node_modules and node:internal skipped, line and column kept apart', () => {
    const stack = [
      "TypeError: Cannot read properties of undefined (reading 'total')",
      '    at Object.<anonymous> (/var/task/node_modules/lodash/lodash.js:4971:30)',
      '    at applyDiscount (/var/task/src/checkout/discount.ts:42:17)',
      '    at async CheckoutService.placeOrder (/var/task/src/checkout/service.ts:120:5)',
      '    at Layer.handle [as handle_request] (/var/task/node_modules/express/lib/router/layer.js:95:5)',
      '    at new Promise (<anonymous>)',
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
    ].join('\n');
    const parsed = parseStack(stack);
    expect(parsed).toMatchObject({ format: 'v8', errorName: 'TypeError', errorMessage: "Cannot read properties of undefined (reading 'total')" });
    expect(parsed.frames.map((f) => f.inApp)).toEqual([false, true, true, false, false, false]);
    expect(parsed.frames[2]).toEqual({ function: 'CheckoutService.placeOrder', file: 'src/checkout/service.ts', line: 120, column: 5, inApp: true });
    expect(parsed.frames[3]!.function).toBe('Layer.handle');
    expect(topApplicationFrame(stack)).toMatchObject({ function: 'applyDiscount', file: 'src/checkout/discount.ts' });
  });

  test('Node.js: anonymous frames, ESM file URLs, eval and Windows paths', () => {
    const stack = [
      'Error: boom',
      '    at eval (eval at compile (/app/src/templates.js:10:5), <anonymous>:1:7)',
      '    at file:///home/ci/build/src/jobs/nightly.mjs:12:9',
      '    at C:\\Users\\dev\\shop\\src\\jobs\\other.js:3:1',
    ].join('\n');
    const frames = parseStack(stack).frames;
    expect(frames.map((f) => [f.function, f.file, f.inApp])).toEqual([
      ['eval', undefined, false],
      [undefined, 'src/jobs/nightly.mjs', true],
      [undefined, 'src/jobs/other.js', true],
    ]);
    expect(topApplicationFrame(stack)).toMatchObject({ file: 'src/jobs/nightly.mjs' });
  });

  test('Chrome: bundles lose their content hash and origin; CDN and vendor bundles are not the app', () => {
    const stack = [
      "TypeError: Cannot read properties of null (reading 'addEventListener')",
      '    at HTMLDocument.<anonymous> (https://cdn.jsdelivr.net/npm/alpinejs@3.13.3/dist/cdn.min.js:1:200)',
      '    at r (https://shop.example.com/static/js/vendors~main.1a2b3c4d.chunk.js:2:99)',
      '    at initCart (https://shop.example.com/static/js/main.8f3a2c1d.js:2:12345)',
      '    at HTMLButtonElement.onClick (https://shop.example.com/assets/index-5KJ2XQ7A.js?v=3:1:777)',
    ].join('\n');
    const parsed = parseStack(stack);
    expect(parsed.format).toBe('v8');
    expect(parsed.frames.map((f) => f.inApp)).toEqual([false, false, true, true]);
    expect(parsed.frames[3]!.file).toBe('assets/index.js');
    expect(topApplicationFrame(stack)).toMatchObject({ function: 'initCart', file: 'static/js/main.js' });
    // The next deploy's bundle hash changes nothing.
    expect(fingerprintOf({ source: 'web', type: 'client.error', error: { stack: stack.replace('main.8f3a2c1d.js:2:12345', 'main.0c9e7b1a.js:2:13001') } }).id).toBe(
      fingerprintOf({ source: 'web', type: 'client.error', error: { stack } }).id,
    );
  });

  test('Firefox: name@url:line:column, async markers, anonymous and eval frames, extensions', () => {
    const stack = [
      'handleEvent@moz-extension://2b1c/content.js:10:3',
      'applyCoupon/<@https://shop.example.com/static/js/main.8f3a2c1d.js:3:410',
      'async*applyCoupon@https://shop.example.com/static/js/main.8f3a2c1d.js:3:200',
      '@https://shop.example.com/static/js/main.8f3a2c1d.js line 2 > eval:1:5',
      '@https://shop.example.com/static/js/main.8f3a2c1d.js:9:1',
    ].join('\n');
    const parsed = parseStack(stack);
    expect(parsed.format).toBe('gecko');
    expect(parsed.frames.map((f) => [f.function, f.inApp])).toEqual([
      ['handleEvent', false],
      ['applyCoupon', true],
      ['applyCoupon', true],
      [undefined, false],
      [undefined, true],
    ]);
    expect(topApplicationFrame(stack)).toMatchObject({ function: 'applyCoupon', file: 'static/js/main.js', line: 3 });
  });

  test('Safari: global code, [native code] and the same frame format', () => {
    const stack = ['map@[native code]', 'renderTotals@https://shop.example.com/js/cart.js:88:21', 'global code@https://shop.example.com/js/cart.js:120:1'].join('\n');
    const parsed = parseStack(stack);
    expect(parsed.frames.map((f) => [f.function, f.file, f.inApp])).toEqual([
      ['map', undefined, false],
      ['renderTotals', 'js/cart.js', true],
      ['<global>', 'js/cart.js', true],
    ]);
    expect(topApplicationFrame(stack)).toMatchObject({ function: 'renderTotals' });
  });

  test('an e-mail address in a message is not a Firefox frame', () => {
    expect(parseStack('Error: could not mail bob@example.com:25').frames).toEqual([]);
  });

  test('Python: most recent call last, site-packages and the standard library skipped, chained exceptions', () => {
    const stack = [
      'Traceback (most recent call last):',
      '  File "/app/src/orders/views.py", line 30, in create_order',
      '    cart = load_cart(request)',
      'ValueError: bad cart',
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      'Traceback (most recent call last):',
      '  File "/app/venv/lib/python3.11/site-packages/flask/app.py", line 1455, in wsgi_app',
      '    response = self.full_dispatch_request()',
      '  File "/app/src/orders/views.py", line 42, in create_order',
      '    total = compute_total(cart)',
      '  File "/app/src/orders/pricing.py", line 17, in compute_total',
      '    return json.loads(raw)["price"]',
      '  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads',
      '    return _default_decoder.decode(s)',
      '  File "<frozen importlib._bootstrap>", line 1, in <module>',
      "KeyError: 'price'",
    ].join('\n');
    const parsed = parseStack(stack);
    expect(parsed).toMatchObject({ format: 'python', errorName: 'KeyError', errorMessage: "'price'" });
    expect(parsed.frames.map((f) => [f.function, f.inApp])).toEqual([
      ['<module>', false],
      ['loads', false],
      ['compute_total', true],
      ['create_order', true],
      ['wsgi_app', false],
    ]);
    expect(topApplicationFrame(stack)).toMatchObject({ function: 'compute_total', file: 'src/orders/pricing.py', line: 17 });
  });

  test('Python: a dotted exception name and a Windows install', () => {
    const stack = [
      'Traceback (most recent call last):',
      '  File "C:\\Python311\\Lib\\socket.py", line 836, in create_connection',
      '  File "D:\\work\\shop\\billing\\client.py", line 12, in charge',
      'requests.exceptions.ConnectionError: HTTPSConnectionPool(host=\'api.example.com\', port=443)',
    ].join('\n');
    const parsed = parseStack(stack);
    expect(parsed.errorName).toBe('requests.exceptions.ConnectionError');
    expect(topApplicationFrame(stack)).toMatchObject({ function: 'charge', file: 'shop/billing/client.py' });
  });

  test('Java: JDK, framework, proxy and lambda classes skipped; the first block, not the causes', () => {
    const stack = [
      'Exception in thread "main" java.lang.IllegalStateException: Cannot invoke "String.length()" because "name" is null',
      '\tat java.base/java.util.Objects.requireNonNull(Objects.java:233)',
      '\tat com.example.orders.OrderService$$SpringCGLIB$$0.validate(<generated>)',
      '\tat com.example.orders.OrderService$$Lambda$123/0x0000000800c0b000.apply(Unknown Source)',
      '\tat com.example.orders.OrderService.lambda$validate$0(OrderService.java:57)',
      '\tat com.example.orders.OrderController.create(OrderController.java:31)',
      '\tat jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)',
      '\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897) ~[spring-webmvc-6.1.2.jar:6.1.2]',
      'Caused by: java.sql.SQLException: Connection refused',
      '\tat com.example.db.Dao.run(Dao.java:10)',
      '\t... 12 more',
    ].join('\n');
    const parsed = parseStack(stack);
    expect(parsed).toMatchObject({ format: 'java', errorName: 'java.lang.IllegalStateException' });
    expect(parsed.frames.map((f) => `${f.module}.${f.function} ${f.inApp}`)).toEqual([
      'java.util.Objects.requireNonNull false',
      // The JVM's hidden lambda class (no source), then the lambda's body in the app's class.
      'com.example.orders.OrderService$$Lambda.apply false',
      'com.example.orders.OrderService.lambda$validate$<n> true',
      'com.example.orders.OrderController.create true',
      'jdk.internal.reflect.NativeMethodAccessorImpl.invoke0 false',
      'org.springframework.web.servlet.FrameworkServlet.service false',
    ]);
    expect(topApplicationFrame(stack)).toMatchObject({ module: 'com.example.orders.OrderService', function: 'lambda$validate$<n>', file: 'OrderService.java' });
  });

  test('Kotlin and inner classes: synthetic numbering is not part of the frame', () => {
    const stack = ['kotlin.KotlinNullPointerException', '\tat com.example.app.Checkout$submit$1.invokeSuspend(Checkout.kt:88)'].join('\n');
    expect(topApplicationFrame(stack)).toMatchObject({ module: 'com.example.app.Checkout$submit$<n>', function: 'invokeSuspend' });
  });

  test('only library frames: the innermost one stands in', () => {
    const stack = 'Error: socket hang up\n    at connResetException (node:internal/errors:720:14)\n    at TLSSocket.socketOnEnd (node:_http_client:525:23)';
    expect(topApplicationFrame(stack)).toMatchObject({ function: 'connResetException', file: 'node:internal/errors', inApp: false });
  });

  test('normalizeFile keeps the last three segments without origin, query, webpack prefix or build hashes', () => {
    expect(normalizeFile('webpack:///./src/app/cart.tsx?3f2a')).toBe('src/app/cart.tsx');
    expect(normalizeFile('/home/deploy/releases/20240501123000/app/models/user.rb')).toBe('app/models/user.rb');
    expect(normalizeFile('/srv/releases/20240501123000/user.rb')).toBe('releases/<n>/user.rb');
    expect(normalizeFile('https://cdn.example.com/_next/static/chunks/pages/checkout-4f8c2a9e1b7d3c6f.js')).toBe('chunks/pages/checkout.js');
    expect(normalizeFile('/app/dist/7f3a9c21e4b5/server.js')).toBe('dist/<hex>/server.js');
    expect(normalizeFile('app:///main.bundle.js')).toBe('main.bundle.js');
  });
});

describe('fingerprintOf', () => {
  const node = (line: number, column: number, fn = 'applyDiscount') =>
    `TypeError: x\n    at ${fn} (/var/task/src/checkout/discount.ts:${line}:${column})\n    at /var/task/node_modules/express/lib/router/layer.js:95:5`;
  const base = {
    source: 'checkout',
    type: 'server.error',
    error: { name: 'TypeError', message: "Cannot read properties of undefined (reading 'total') for order 1234", stack: node(42, 17) },
  };

  test('the same failure with other ids, numbers and line numbers: the same 16-hex-digit id', () => {
    const a = fingerprintOf(base);
    const b = fingerprintOf({ ...base, error: { ...base.error, message: "Cannot read properties of undefined (reading 'total') for order 98765", stack: node(57, 3) } });
    expect(a.id).toMatch(/^[0-9a-f]{16}$/);
    expect(b.id).toBe(a.id);
    expect(a).toMatchObject({
      basis: 'default',
      errorName: 'TypeError',
      title: 'TypeError: Cannot read properties of undefined (reading <str>) for order <n>',
      culprit: 'applyDiscount (src/checkout/discount.ts)',
      frame: { file: 'src/checkout/discount.ts', function: 'applyDiscount' },
    });
  });

  test('another function, error name, message, type or app: another group', () => {
    const id = fingerprintOf(base).id;
    expect(fingerprintOf({ ...base, error: { ...base.error, stack: node(42, 17, 'applyCoupon') } }).id).not.toBe(id);
    expect(fingerprintOf({ ...base, error: { ...base.error, name: 'RangeError' } }).id).not.toBe(id);
    expect(fingerprintOf({ ...base, error: { ...base.error, message: 'Cannot read properties of null' } }).id).not.toBe(id);
    expect(fingerprintOf({ ...base, type: 'api.request.failed' }).id).not.toBe(id);
    expect(fingerprintOf({ ...base, source: 'billing' }).id).not.toBe(id);
  });

  test('name and message come from the stack when the error object lacks them; then from the event message', () => {
    const fromStack = fingerprintOf({ source: 'web', type: 'client.error', error: { stack: "TypeError: Cannot read properties of null (reading 'x')\n    at f (https://a.example/app.js:1:1)" } });
    expect(fromStack).toMatchObject({ errorName: 'TypeError', title: 'TypeError: Cannot read properties of null (reading <str>)' });
    const fromMessage = fingerprintOf({ source: 'web', type: 'job.failed', message: 'nightly export 2026-11-23 failed after 3 retries' });
    expect(fromMessage).toMatchObject({ title: 'nightly export <time> failed after <n> retries', message: 'nightly export <time> failed after <n> retries' });
    expect(fromMessage.errorName).toBeUndefined();
  });

  test('a bare 5xx from the request middleware groups by endpoint', () => {
    const failure = (route: string, page: string) => fingerprintOf({ source: 'api', type: 'api.request.failed', page, details: { method: 'post', route, status: 500 } });
    expect(failure('/v1/orders/:id', '/v1/orders/:id').id).toBe(failure('/v1/orders/:id', '/v1/orders/:id').id);
    expect(failure('/v1/orders/:id', '/v1/orders/:id').id).not.toBe(failure('/v1/carts/:id', '/v1/carts/:id').id);
    expect(failure('/v1/orders/:id', '/v1/orders/:id')).toMatchObject({ title: 'api.request.failed at POST /v1/orders/:id', culprit: 'POST /v1/orders/:id' });
    expect(endpointOf({ page: '/orders/12345/items/8f14e45f-ceea-467f-a0e6-3c2a1b9f7d10' })).toBe('/orders/<n>/items/<uuid>');
  });

  test('a client fingerprint overrides everything but the app; {{default}} extends the default instead', () => {
    const custom = fingerprintOf({ ...base, fingerprint: 'checkout-discount-bug' });
    expect(custom.basis).toBe('client');
    expect(fingerprintOf({ ...base, type: 'other.type', error: { name: 'X', message: 'y' }, fingerprint: 'checkout-discount-bug' }).id).toBe(custom.id);
    expect(fingerprintOf({ ...base, source: 'billing', fingerprint: 'checkout-discount-bug' }).id).not.toBe(custom.id);
    const extended = fingerprintOf({ ...base, fingerprint: '{{default}} tenant-42' });
    expect(extended.id).not.toBe(fingerprintOf(base).id);
    expect(fingerprintOf({ ...base, error: { ...base.error, name: 'RangeError' }, fingerprint: '{{default}} tenant-42' }).id).not.toBe(extended.id);
    // The title still says what failed.
    expect(custom.title).toBe(fingerprintOf(base).title);
  });

  test('which events are errors', () => {
    const event = { type: 'x.y', source: 'app' };
    expect(isTrackedError({ ...event, severity: 'error' })).toBe(true);
    expect(isTrackedError({ ...event, severity: 'critical' })).toBe(true);
    expect(isTrackedError({ ...event, severity: 'info', error: { message: 'handled' } })).toBe(true);
    expect(isTrackedError({ ...event, severity: 'warning' })).toBe(false);
    // The system's own error-group events are never grouped.
    expect(isTrackedError({ type: 'error.group.regressed', source: 'audit-trail', severity: 'error' }, 'audit-trail')).toBe(false);
    expect(isTrackedError({ type: 'error.group.regressed', source: 'app', severity: 'error' }, 'audit-trail')).toBe(true);
  });
});
