/**
 * ULIDs (https://github.com/ulid/spec) for client-assigned event ids: 48 bits
 * of milliseconds and 80 random bits, Crockford base32, monotonic within one
 * client (ids of one batch sort in logging order). Twenty lines instead of a
 * dependency; randomness from Web Crypto (Node 20+ and every browser).
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function encodeTime(ms: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

let lastTime = -1;
/** The 80 random bits as 16 base32 digits (5 bits each), most significant first. */
let lastRandom: number[] = [];

export function ulid(now: number = Date.now()): string {
  if (now <= lastTime) {
    // Same (or an earlier, clock went back) millisecond: increment the random part, so ids stay ordered and unique.
    now = lastTime;
    let i = 15;
    while (i >= 0 && lastRandom[i] === 31) lastRandom[i--] = 0;
    if (i < 0) throw new Error('ULID random part overflowed within one millisecond');
    lastRandom[i]++;
  } else {
    lastTime = now;
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    lastRandom = Array.from(bytes, (b) => b & 31);
  }
  return encodeTime(now) + lastRandom.map((d) => ALPHABET[d]).join('');
}
