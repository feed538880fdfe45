/** Whether a certificate's names cover a domain. Pure. */

const normalize = (name: string): string => name.trim().toLowerCase().replace(/\.$/, '');

/**
 * RFC 6125 (6.4.3) as ACM and browsers apply it: a name matches itself, and a wildcard is the whole
 * left-most label (`*.example.com`) standing for exactly one label: it covers `api.example.com`,
 * neither `example.com` nor `a.api.example.com`.
 */
export function nameCovers(certificateName: string, domain: string): boolean {
  const name = normalize(certificateName);
  const wanted = normalize(domain);
  if (name === '' || wanted === '') return false;
  if (name === wanted) return true;
  if (!name.startsWith('*.')) return false;
  const dot = wanted.indexOf('.');
  if (dot <= 0) return false;
  return wanted.slice(dot + 1) === name.slice(2) && !name.slice(2).includes('*');
}

/** The certificate's domain name and subject alternative names cover `domain`. */
export function certificateCovers(names: readonly string[], domain: string): boolean {
  return names.some((name) => nameCovers(name, domain));
}
