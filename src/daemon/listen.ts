/** Where the HTTP server binds: `host:port`, `:port` (every interface), `[::1]:port` or a bare port. */
export interface ListenAddress {
  /** Undefined: every interface (IPv6 and IPv4 where the system allows). */
  host?: string;
  port: number;
}

export class ListenAddressError extends Error {}

export function parseListenAddress(text: string): ListenAddress {
  const input = text.trim();
  let host: string | undefined;
  let portText: string;
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(input);
  if (bracketed) {
    host = bracketed[1];
    portText = bracketed[2] ?? '';
  } else if (/^\d+$/.test(input)) {
    portText = input;
  } else {
    const colon = input.lastIndexOf(':');
    if (colon < 0 || input.indexOf(':') !== colon) {
      throw new ListenAddressError(`listen address "${text}": expected host:port, :port or [ipv6]:port`);
    }
    host = input.slice(0, colon) || undefined;
    portText = input.slice(colon + 1);
  }
  if (!/^\d+$/.test(portText) || Number(portText) > 65_535) {
    throw new ListenAddressError(`listen address "${text}": the port must be a number from 0 to 65535`);
  }
  return { host, port: Number(portText) };
}

export function formatListenAddress(address: ListenAddress): string {
  const host = address.host ?? '';
  return `${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}
