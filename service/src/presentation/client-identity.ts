import type { IncomingMessage } from 'node:http';
import { isHeader } from './http-headers';
import { BlockList, isIP } from 'node:net';

/** See Config.rateLimit: how many proxies append to X-Forwarded-For, and where they are. */
export interface TrustedProxies {
  readonly hops: number;
  /** CIDRs (or bare addresses) of the proxies; X-Forwarded-For is read only from a peer inside them. */
  readonly cidrs: readonly string[];
}

const MAPPED_V4 = '::ffff:';

/**
 * The key a client is counted under: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, or its hex form) is
 * the IPv4 address; any other IPv6 address is its /64, written `h:h:h:h::/64`, because one subscriber
 * usually holds a whole /64 and could otherwise take a fresh budget per address. `address` must be an IP.
 */
export function normaliseClientAddress(address: string): string {
  const family = isIP(address);
  if (family === 4 || family === 0) return address;
  if (address.length > 7 && address.slice(0, 7).toLowerCase() === MAPPED_V4) {
    const rest = address.slice(7);
    if (isIP(rest) === 4) return rest;
  }
  const zone = address.indexOf('%');
  const text = (zone === -1 ? address : address.slice(0, zone)).toLowerCase();
  const gap = text.indexOf('::');
  const head = hextets(gap === -1 ? text : text.slice(0, gap));
  const tail = gap === -1 ? [] : hextets(text.slice(gap + 2));
  const g = [...head, ...new Array<number>(Math.max(0, 8 - head.length - tail.length)).fill(0), ...tail];
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    const high = g[6] as number;
    const low = g[7] as number;
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return `${hex(g[0])}:${hex(g[1])}:${hex(g[2])}:${hex(g[3])}::/64`;
}

const hex = (group: number | undefined) => (group ?? 0).toString(16);

/** The 16-bit groups of one side of `::` (an embedded IPv4 address is two of them). */
function hextets(side: string): number[] {
  const groups: number[] = [];
  if (side === '') return groups;
  for (const part of side.split(':')) {
    if (part.includes('.')) {
      const [a = 0, b = 0, c = 0, d = 0] = part.split('.').map(Number);
      groups.push((a << 8) | b, (c << 8) | d);
    } else groups.push(Number.parseInt(part, 16));
  }
  return groups;
}

/**
 * One X-Forwarded-For entry as an address: surrounding spaces and quotes, `[v6]` brackets and a `:port`
 * are stripped (proxies write `1.2.3.4:5678`, `[2001:db8::1]:443` and quoted forms too). Undefined when
 * what is left is not an address.
 */
export function forwardedAddress(value: string, start: number, end: number): string | undefined {
  while (start < end && (value.charCodeAt(start) === 32 || value.charCodeAt(start) === 9)) start++;
  while (end > start && (value.charCodeAt(end - 1) === 32 || value.charCodeAt(end - 1) === 9)) end--;
  if (end - start >= 2 && value.charCodeAt(start) === 34 && value.charCodeAt(end - 1) === 34) {
    start++;
    end--;
  }
  let text = value.slice(start, end);
  if (isIP(text) !== 0) return text;
  if (text.charCodeAt(0) === 91) {
    // [v6] or [v6]:port
    const close = text.indexOf(']');
    if (close === -1) return undefined;
    const port = text.slice(close + 1);
    if (port !== '' && !/^:\d{1,5}$/.test(port)) return undefined;
    text = text.slice(1, close);
    return isIP(text) === 6 ? text : undefined;
  }
  // a.b.c.d:port (one colon only: a bare IPv6 address was taken above)
  const colon = text.indexOf(':');
  if (colon === -1 || text.indexOf(':', colon + 1) !== -1 || !/^\d{1,5}$/.test(text.slice(colon + 1)))
    return undefined;
  text = text.slice(0, colon);
  return isIP(text) === 4 ? text : undefined;
}

const noop = () => undefined;

function isBlank(value: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = value.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/**
 * The client a request is counted against, as a normalised key (see normaliseClientAddress). With N trusted
 * proxies in front, each appends the address it received the request from to X-Forwarded-For, so the
 * entries are read from the right, one per hop, but only while the address that would have written the
 * next entry (the TCP peer first, then each hop skipped) is inside TRUSTED_PROXY_CIDRS: a peer outside the
 * list is the client, whatever it sent. With fewer entries than hops the leftmost one is used; an entry
 * that is no address stops the scan at the last trusted address (and is counted by `onFallback`).
 */
export function createClientIdentity(
  trusted: TrustedProxies,
  onFallback: () => void = noop,
): (req: IncomingMessage) => string {
  const hops = trusted.hops;
  if (hops === 0 || trusted.cidrs.length === 0) {
    return (req) => normaliseClientAddress(req.socket.remoteAddress ?? 'unknown');
  }
  const list = new BlockList();
  for (const cidr of trusted.cidrs) {
    const slash = cidr.indexOf('/');
    const address = slash === -1 ? cidr : cidr.slice(0, slash);
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    const prefix = slash === -1 ? (family === 'ipv6' ? 128 : 32) : Number(cidr.slice(slash + 1));
    list.addSubnet(address, prefix, family);
  }
  const isTrusted = (address: string) => list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');

  return (req) => {
    const remote = req.socket.remoteAddress;
    if (remote === undefined) return 'unknown';
    // The peer as IPv4 when it is IPv4-mapped (a dual-stack listener), so v4 CIDRs match it.
    let current =
      remote.length > 7 && remote.slice(0, 7).toLowerCase() === MAPPED_V4 && isIP(remote.slice(7)) === 4
        ? remote.slice(7)
        : remote;
    let used = 0;
    const raw = req.rawHeaders;
    // From the last header line to the first, each from its last entry to its first: right to left.
    for (let i = raw.length - 2; i >= 0 && used < hops; i -= 2) {
      if (!isHeader(raw[i] as string, 'x-forwarded-for')) continue;
      const value = raw[i + 1] as string;
      let end = value.length;
      while (end >= 0 && used < hops) {
        const comma = end === 0 ? -1 : value.lastIndexOf(',', end - 1);
        if (!isBlank(value, comma + 1, end)) {
          if (!isTrusted(current)) return normaliseClientAddress(current);
          const entry = forwardedAddress(value, comma + 1, end);
          if (entry === undefined) {
            onFallback();
            return normaliseClientAddress(current);
          }
          current = entry;
          used++;
        }
        end = comma;
      }
    }
    return normaliseClientAddress(current);
  };
}
