// Which clients share one AUTH failure budget. Pure, so the address rules are unit-tested.
import net from 'node:net';

/** An IPv6 host usually owns a whole /64; counting per address would let it rotate past any limit. */
const IPV6_SUBNET_GROUPS = 4;

function expandIpv6(address: string): string[] | undefined {
  let text = address;
  // An embedded IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (v4 !== undefined) {
    const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
    text = `${text.slice(0, -v4.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((group) =>
    Number.parseInt(group, 16).toString(16),
  );
}

/**
 * The throttle key of a client address: the IPv4 address itself (also when it arrives IPv4-mapped
 * on a dual-stack socket), or the /64 network of an IPv6 address. Anything else is used as given,
 * so a malformed address still gets a budget of its own.
 */
export function clientKey(ip: string): string {
  const address = ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (net.isIPv4(address)) return address;
  if (!net.isIPv6(address)) return address;
  const groups = expandIpv6(address.split('%')[0] ?? address);
  if (!groups) return address;
  return `${groups.slice(0, IPV6_SUBNET_GROUPS).join(':')}::/64`;
}
