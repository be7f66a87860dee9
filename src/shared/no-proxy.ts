// NO_PROXY as curl reads it: a comma- or space-separated list of hosts that are reached directly.
// A name matches itself and every name under it (`example.com`, `.example.com` and `*.example.com`
// all match `example.com` and `smtp.example.com`); `host:port` matches that port only; an IP address
// matches itself and a CIDR range every address in it (names are not resolved to compare them);
// `*` alone matches everything. Pure: the egress proxy module asks it about each request's target.
import net from 'node:net';

interface Rule {
  /** A lower-case name without leading dots, matched as itself or a suffix after a dot. */
  name?: string;
  /** Addresses (one or a range) the rule covers. */
  addresses?: net.BlockList;
  /** Only this port, when the entry names one. */
  port?: number;
}

export interface NoProxy {
  /** Whether a request to `host` (a name or an IP address, brackets allowed) on `port` bypasses the proxy. */
  matches(host: string, port: number): boolean;
}

const family = (address: string) => (net.isIPv6(address) ? 'ipv6' : 'ipv4');

function addressRule(address: string, prefix?: number): Rule {
  const addresses = new net.BlockList();
  if (prefix === undefined) addresses.addAddress(address, family(address));
  else addresses.addSubnet(address, prefix, family(address));
  return { addresses };
}

/** `host` and an optional port from `host:port`, `[v6]` or `[v6]:port`; a bare IPv6 address has no port. */
function splitPort(entry: string): { host: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, ...(bracketed[2] ? { port: Number(bracketed[2]) } : {}) };
  if (net.isIPv6(entry)) return { host: entry };
  const withPort = /^(.*):(\d+)$/.exec(entry);
  return withPort ? { host: withPort[1]!, port: Number(withPort[2]) } : { host: entry };
}

function parseEntry(entry: string): Rule | 'all' | undefined {
  if (entry === '*') return 'all';
  const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
  if (cidr && net.isIP(cidr[1]!) !== 0) {
    const prefix = Number(cidr[2]);
    return prefix <= (net.isIPv6(cidr[1]!) ? 128 : 32) ? addressRule(cidr[1]!, prefix) : undefined;
  }
  const { host, port } = splitPort(entry);
  const rule: Rule =
    net.isIP(host) !== 0 ? addressRule(host) : { name: host.replace(/^\*?\.+/, '').replace(/\.$/, '') };
  if (rule.name === '') return undefined;
  return port === undefined ? rule : { ...rule, port };
}

export function parseNoProxy(value: string | undefined): NoProxy {
  let all = false;
  const rules: Rule[] = [];
  for (const entry of (value ?? '').toLowerCase().split(/[\s,]+/)) {
    if (entry === '') continue;
    const rule = parseEntry(entry);
    if (rule === 'all') all = true;
    else if (rule) rules.push(rule);
  }
  return {
    matches(host, port) {
      if (all) return true;
      const bare = host
        .toLowerCase()
        .replace(/^\[|\]$/g, '')
        .replace(/\.$/, '');
      const ip = net.isIP(bare) !== 0;
      return rules.some((rule) => {
        if (rule.port !== undefined && rule.port !== port) return false;
        if (rule.addresses) return ip && rule.addresses.check(bare, family(bare));
        return !ip && (bare === rule.name || bare.endsWith(`.${rule.name}`));
      });
    },
  };
}
