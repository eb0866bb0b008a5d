import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactSecrets, redactText } from '../../src/core/redact.js';

describe('redactText', () => {
  it('masks a token and the password of user:password in URLs, wherever they stand', () => {
    expect(redactText('cannot discover agents at nats://s3cr3tTOKEN@10.0.0.1:4222: refused')).toBe(
      'cannot discover agents at nats://***@10.0.0.1:4222: refused',
    );
    expect(redactText('{"message":"unreachable at http://alice:hunter22@h:8080/tasks"}')).toBe(
      '{"message":"unreachable at http://alice:***@h:8080/tasks"}',
    );
    expect(redactText('nats://a@h1:4222,tls://u:p@h2:4222')).toBe('nats://***@h1:4222,tls://u:***@h2:4222');
  });

  it('leaves text without URL credentials alone (e-mail addresses, URLs without user info)', () => {
    const plain = 'mail bob@example.com about http://h:80/a@b and nats://h:4222';
    expect(redactText(plain)).toBe(plain);
  });

  it('never lets a password of a URL through (property)', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9_%-]{4,20}$/);
    fc.assert(
      fc.property(
        token,
        token,
        fc.constantFrom('nats', 'tls', 'http', 'https', 'ws'),
        (user, pass, scheme) => {
          const secret = `${pass}SECRET`;
          const out = redactText(`at ${scheme}://${user}:${secret}@host:1/x and ${scheme}://${secret}@host`);
          expect(out).not.toContain(secret);
        },
      ),
    );
  });
});

describe('redactSecrets', () => {
  it('also masks the given secrets, but not short ones', () => {
    expect(redactSecrets('token s3cr3t refused; nats://x@h', ['s3cr3t', 'ab', undefined])).toBe(
      'token *** refused; nats://***@h',
    );
  });
});
