import { describe, expect, it } from 'vitest';
import { formatListenAddress, ListenAddressError, parseListenAddress } from '../../../src/daemon/listen.js';

describe('parseListenAddress', () => {
  it.each([
    ['0.0.0.0:8080', { host: '0.0.0.0', port: 8080 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    [':9090', { host: undefined, port: 9090 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
    ['[::1]:8080', { host: '::1', port: 8080 }],
    ['[::]:8080', { host: '::', port: 8080 }],
    ['8080', { host: undefined, port: 8080 }],
  ])('reads %j', (text, expected) => {
    expect(parseListenAddress(text)).toEqual(expected);
  });

  it.each(['', 'localhost', '0.0.0.0:', ':http', '1.2.3.4:65536', '::1:8080', 'host:-1', '[::1]8080'])('rejects %j', (text) => {
    expect(() => parseListenAddress(text)).toThrow(ListenAddressError);
  });

  it('formats addresses', () => {
    expect(formatListenAddress({ host: '0.0.0.0', port: 8080 })).toBe('0.0.0.0:8080');
    expect(formatListenAddress({ port: 8080 })).toBe(':8080');
    expect(formatListenAddress({ host: '::1', port: 1 })).toBe('[::1]:1');
  });
});
