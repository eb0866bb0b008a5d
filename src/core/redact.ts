/**
 * Redaction of credentials in text shown to people or written to files (messages, logs, traces,
 * `--json` lines). A URL's user info is the only place credentials appear in our own messages:
 * `nats://s3cr3t@host:4222` (a NATS token), `https://user:pass@host/` (basic auth).
 */

/** What replaces a secret. */
export const REDACTED = '***';

/**
 * `scheme://userinfo@`: the scheme (RFC 3986 §3.1) and the user info up to the last `@` before
 * the authority ends (no `/ ? # @`, whitespace, quotes or backslash: a URL inside a JSON string
 * or a sentence stops there).
 */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@"'\\<>]+)@/gi;

function maskUserinfo(userinfo: string): string {
  const colon = userinfo.indexOf(':');
  // `user:password` keeps the user name (not a secret, and it helps reading); a lone token goes
  return colon < 0 ? REDACTED : `${userinfo.slice(0, colon)}:${REDACTED}`;
}

/**
 * Replaces the credentials of every URL in `text` by `***`: `nats://tok@h` → `nats://***@h`,
 * `http://u:p@h` → `http://u:***@h`. Text without such URLs is returned as is (same string).
 *
 * @example
 * redactText('cannot connect to nats://s3cr3t@10.0.0.1:4222'); // 'cannot connect to nats://***@10.0.0.1:4222'
 */
export function redactText(text: string): string {
  if (!text.includes('@')) return text;
  return text.replace(USERINFO, (_match, scheme: string, userinfo: string) => {
    return `${scheme}${maskUserinfo(userinfo)}@`;
  });
}

/**
 * Replaces each of `secrets` (tokens, passwords given outside a URL) and URL credentials in `text`.
 * Secrets shorter than 4 characters are not replaced (they would mangle ordinary words).
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = redactText(text);
  for (const secret of secrets)
    if (secret !== undefined && secret.length >= 4) out = out.split(secret).join(REDACTED);
  return out;
}
