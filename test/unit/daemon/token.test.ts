import { describe, expect, it } from 'vitest';
import { authorizeTrigger, bearerToken, loadTriggerToken, TriggerTokenError, tokensMatch } from '../../../src/daemon/token.js';

describe('trigger token check', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['Bearer', undefined],
    ['Bearer ', undefined],
    ['Basic abc', undefined],
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['Bearer   abc  ', 'abc'],
    ['Bearer abc def', undefined],
  ])('reads the bearer credentials of %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  it('compares tokens of any length without throwing', () => {
    expect(tokensMatch('s3cret-token', 's3cret-token')).toBe(true);
    expect(tokensMatch('s3cret-token', 's3cret-toke')).toBe(false);
    expect(tokensMatch('s3cret-token', 's3cret-token-and-more')).toBe(false);
    expect(tokensMatch('s3cret-token', '')).toBe(false);
  });

  it.each([
    [undefined, 'Bearer x', 'disabled'],
    ['', 'Bearer x', 'disabled'],
    ['tok', undefined, 'missing'],
    ['tok', 'Basic dG9r', 'missing'],
    ['tok', 'Bearer nope', 'invalid'],
    ['tok', 'Bearer tok', 'ok'],
  ] as const)('expected %j, header %j: %s', (expected, header, result) => {
    expect(authorizeTrigger(expected, header)).toBe(result);
  });
});

describe('loadTriggerToken', () => {
  const files: Record<string, string> = { '/run/secrets/token': '  from-file\n', '/run/secrets/empty': ' \n' };
  const read = (path: string): Promise<string> => {
    const content = files[path];
    if (content === undefined) return Promise.reject(Object.assign(new Error('nope'), { code: 'ENOENT' }));
    return Promise.resolve(content);
  };

  it('prefers the variable, then the trimmed file', async () => {
    expect(await loadTriggerToken({ CONVERGE_TRIGGER_TOKEN: 'direct' }, read)).toEqual({ token: 'direct', origin: 'env', warning: undefined });
    expect(await loadTriggerToken({ CONVERGE_TRIGGER_TOKEN_FILE: '/run/secrets/token' }, read)).toEqual({ token: 'from-file', origin: 'file' });
    const both = await loadTriggerToken({ CONVERGE_TRIGGER_TOKEN: 'direct', CONVERGE_TRIGGER_TOKEN_FILE: '/run/secrets/token' }, read);
    expect(both.token).toBe('direct');
    expect(both.warning).toMatch(/both/);
    expect(await loadTriggerToken({}, read)).toEqual({});
    expect(await loadTriggerToken({ CONVERGE_TRIGGER_TOKEN: '  ' }, read)).toEqual({});
  });

  it('fails loudly on a configured file it cannot use, without printing its content', async () => {
    await expect(loadTriggerToken({ CONVERGE_TRIGGER_TOKEN_FILE: '/missing' }, read)).rejects.toThrow(TriggerTokenError);
    await expect(loadTriggerToken({ CONVERGE_TRIGGER_TOKEN_FILE: '/missing' }, read)).rejects.toThrow(/ENOENT/);
    await expect(loadTriggerToken({ CONVERGE_TRIGGER_TOKEN_FILE: '/run/secrets/empty' }, read)).rejects.toThrow(/is empty/);
  });
});
