import { BlockList, isIP } from 'node:net';

/**
 * IPv4 ranges that are not globally routable unicast (IANA special-purpose registry, RFC 6890). A download
 * must not reach them unless the workspace allows private addresses: they lead to this host, the LAN or a
 * cloud metadata service (169.254.169.254).
 */
const IPV4_NOT_PUBLIC: ReadonlyArray<readonly [network: string, prefix: number]> = [
  ['0.0.0.0', 8], // "this network", includes the unspecified 0.0.0.0
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // carrier-grade NAT shared space
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // deprecated 6to4 relay anycast
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, includes the broadcast 255.255.255.255
];

const IPV6_NOT_PUBLIC: ReadonlyArray<readonly [network: string, prefix: number]> = [
  ['::', 96], // unspecified ::, loopback ::1 and the deprecated IPv4-compatible addresses
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard-only
  ['2001::', 23], // IETF protocol assignments, includes Teredo tunnels
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique-local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // deprecated site-local
  ['ff00::', 8], // multicast
];

const notPublic = new BlockList();
for (const [network, prefix] of IPV4_NOT_PUBLIC) {
  // BlockList also matches IPv4 rules against IPv4-mapped IPv6 (::ffff:127.0.0.1).
  notPublic.addSubnet(network, prefix, 'ipv4');
  // NAT64 and 6to4 addresses carry an IPv4 address that a gateway would connect to on our behalf.
  notPublic.addSubnet(`64:ff9b::${network}`, 96 + prefix, 'ipv6');
  notPublic.addSubnet(`2002:${ipv4Hex(network)}::`, 16 + prefix, 'ipv6');
}
for (const [network, prefix] of IPV6_NOT_PUBLIC) notPublic.addSubnet(network, prefix, 'ipv6');

/** IPv6 space that can be public at all: global unicast, plus the forms that embed an IPv4 address. */
const ipv6Routable = new BlockList();
ipv6Routable.addSubnet('2000::', 3, 'ipv6');
ipv6Routable.addSubnet('::ffff:0:0', 96, 'ipv6'); // IPv4-mapped
ipv6Routable.addSubnet('64:ff9b::', 96, 'ipv6'); // NAT64 well-known prefix

/** True when `address` is an IP literal of a globally routable unicast address. Hostnames are not addresses. */
export function isPublicAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 4) return !notPublic.check(address, 'ipv4');
  if (version === 6) return ipv6Routable.check(address, 'ipv6') && !notPublic.check(address, 'ipv6');
  return false;
}

/** "192.168.0.0" → "c0a8:0000", the form an IPv4 address takes inside a 6to4 prefix. */
function ipv4Hex(address: string): string {
  const hex = address.split('.').map((octet) => Number(octet).toString(16).padStart(2, '0'));
  return `${hex[0]}${hex[1]}:${hex[2]}${hex[3]}`;
}
