/**
 * Browser stand-in for `node:buffer`, aliased in by the client build
 * (client/build.mjs): lambdas/core/redact.ts, shared with the server, only
 * decodes base64 to UTF-8 text (to recognise HTTP Basic credentials), which
 * atob + TextDecoder do as Buffer does (invalid UTF-8 becomes U+FFFD).
 */
export const Buffer = {
  from(text: string, _encoding: 'base64') {
    return {
      toString(_target: 'utf8'): string {
        try {
          // Buffer ignores a dangling sixth bit group; atob refuses it.
          const clean = text.length % 4 === 1 ? text.slice(0, -1) : text;
          const binary = atob(clean);
          return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
        } catch {
          return '';
        }
      },
    };
  },
};
