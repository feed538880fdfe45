import { describe, expect, it } from 'vitest';
import { certificateCovers, nameCovers } from '../../../src/preflight/certificate.js';

describe('certificate coverage (RFC 6125, one label per wildcard)', () => {
  it('matches a name exactly, whatever its case or trailing dot', () => {
    expect(nameCovers('api.example.com', 'api.example.com')).toBe(true);
    expect(nameCovers('API.Example.com.', 'api.example.com')).toBe(true);
    expect(nameCovers('www.example.com', 'api.example.com')).toBe(false);
  });

  it('lets a wildcard stand for exactly one left-most label', () => {
    expect(nameCovers('*.example.com', 'api.example.com')).toBe(true);
    expect(nameCovers('*.example.com', 'example.com')).toBe(false);
    expect(nameCovers('*.example.com', 'a.api.example.com')).toBe(false);
    expect(nameCovers('*.example.com', 'api.example.org')).toBe(false);
    expect(nameCovers('api.*.com', 'api.example.com')).toBe(false);
  });

  it('looks at the domain name and every subject alternative name', () => {
    expect(certificateCovers(['example.com', '*.example.com'], 'www.example.com')).toBe(true);
    expect(certificateCovers(['example.com'], 'www.example.com')).toBe(false);
    expect(certificateCovers([], 'www.example.com')).toBe(false);
  });
});
