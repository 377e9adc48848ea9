import type { IncomingMessage } from 'node:http';
import { createClientIdentity, normaliseClientAddress } from '../../src/presentation/client-identity';

const request = (rawHeaders: string[], remoteAddress = '10.0.0.9') =>
  ({ rawHeaders, socket: { remoteAddress } }) as unknown as IncomingMessage;
const PROXIES = ['10.0.0.0/8', '2001:db8:ffff::/48'];

describe('normaliseClientAddress', () => {
  test('When the address is IPv4-mapped IPv6, then it is the IPv4 address', () => {
    expect(normaliseClientAddress('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(normaliseClientAddress('::FFFF:203.0.113.7')).toBe('203.0.113.7');
    expect(normaliseClientAddress('::ffff:cb00:7107')).toBe('203.0.113.7');
    expect(normaliseClientAddress('203.0.113.7')).toBe('203.0.113.7');
  });

  test('When the address is IPv6, then it is cut to its /64, however it is written', () => {
    const key = normaliseClientAddress('2001:db8:1:2::1');
    expect(key).toBe('2001:db8:1:2::/64');
    expect(normaliseClientAddress('2001:0DB8:0001:0002:ffff:eeee:dddd:cccc')).toBe(key);
    expect(normaliseClientAddress('2001:db8:1:2:aaaa::')).toBe(key);
    expect(normaliseClientAddress('2001:db8:1:3::1')).not.toBe(key);
    expect(normaliseClientAddress('::1')).toBe('0:0:0:0::/64');
    expect(normaliseClientAddress('2001:db8::')).toBe('2001:db8:0:0::/64');
    expect(normaliseClientAddress('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});

describe('createClientIdentity', () => {
  test('When no proxy is trusted, then the client is the TCP peer, whatever X-Forwarded-For says', () => {
    const identify = createClientIdentity({ hops: 0, cidrs: PROXIES });
    expect(identify(request(['X-Forwarded-For', '1.2.3.4']))).toBe('10.0.0.9');
    expect(identify(request([], '::ffff:10.0.0.9'))).toBe('10.0.0.9');
  });

  test('When N proxies are trusted and the peer is one of them, then the client is the N-th entry from the right, across repeated headers', () => {
    const identify1 = createClientIdentity({ hops: 1, cidrs: PROXIES });
    const identify2 = createClientIdentity({ hops: 2, cidrs: PROXIES });
    const req = request(['x-forwarded-for', '6.6.6.6, 203.0.113.1', 'X-Forwarded-For', '10.1.1.1']);
    expect(identify1(req)).toBe('10.1.1.1');
    expect(identify2(req)).toBe('203.0.113.1');
    expect(identify1(request(['X-Forwarded-For', '2001:db8::1']))).toBe('2001:db8:0:0::/64');
  });

  test('When the TCP peer is not a trusted proxy, then its X-Forwarded-For is ignored: a client cannot buy a fresh budget', () => {
    const identify = createClientIdentity({ hops: 1, cidrs: PROXIES });
    for (const forged of ['1.1.1.1', '2.2.2.2', '3.3.3.3'])
      expect(identify(request(['X-Forwarded-For', forged], '198.51.100.9'))).toBe('198.51.100.9');
    expect(identify(request(['X-Forwarded-For', '1.1.1.1'], '::ffff:198.51.100.9'))).toBe('198.51.100.9');
  });

  test('When a hop skipped from the right is not a trusted proxy, then the scan stops at it', () => {
    const identify = createClientIdentity({ hops: 2, cidrs: PROXIES });
    // The trusted peer says its own peer was 198.51.100.5, which is no proxy of ours: that is the client,
    // and whatever it wrote to the left is its own invention.
    expect(identify(request(['X-Forwarded-For', '7.7.7.7, 198.51.100.5']))).toBe('198.51.100.5');
    expect(identify(request(['X-Forwarded-For', '7.7.7.7, 10.2.2.2']))).toBe('7.7.7.7');
  });

  test('When hops > 0 without any trusted CIDR, then the peer is the client', () => {
    const identify = createClientIdentity({ hops: 1, cidrs: [] });
    expect(identify(request(['X-Forwarded-For', '1.2.3.4']))).toBe('10.0.0.9');
  });

  test('When there are fewer entries than hops, then the leftmost is used; with none, the peer', () => {
    const identify = createClientIdentity({ hops: 3, cidrs: PROXIES });
    expect(identify(request(['X-Forwarded-For', '203.0.113.1']))).toBe('203.0.113.1');
    expect(identify(request([]))).toBe('10.0.0.9');
  });

  test('When an entry carries a port, brackets or quotes, then the address in it is used', () => {
    const identify = createClientIdentity({ hops: 1, cidrs: PROXIES });
    expect(identify(request(['X-Forwarded-For', '1.2.3.4:5678']))).toBe('1.2.3.4');
    expect(identify(request(['X-Forwarded-For', '[2001:db8::1]:443']))).toBe('2001:db8:0:0::/64');
    expect(identify(request(['X-Forwarded-For', '[2001:db8::1]']))).toBe('2001:db8:0:0::/64');
    expect(identify(request(['X-Forwarded-For', '"1.2.3.4:5678"']))).toBe('1.2.3.4');
    expect(identify(request(['X-Forwarded-For', ' "[2001:db8::1]:443" ']))).toBe('2001:db8:0:0::/64');
    expect(identify(request(['X-Forwarded-For', '6.6.6.6,1.2.3.4:80 ']))).toBe('1.2.3.4');
  });

  test('When an entry is not an address at all, then the last trusted address is used and the fallback is counted', () => {
    let fallbacks = 0;
    const identify = createClientIdentity({ hops: 2, cidrs: PROXIES }, () => fallbacks++);
    expect(identify(request(['X-Forwarded-For', 'not-an-ip']))).toBe('10.0.0.9');
    expect(identify(request(['X-Forwarded-For', 'unknown, 10.3.3.3']))).toBe('10.3.3.3');
    expect(identify(request(['X-Forwarded-For', '1.2.3.4:notaport']))).toBe('10.0.0.9');
    expect(fallbacks).toBe(3);
    expect(identify(request(['X-Forwarded-For', '1.2.3.4, 10.3.3.3']))).toBe('1.2.3.4');
    expect(fallbacks).toBe(3);
  });
});
