import type { LookupAddress } from 'node:dns';
import type { ClientRequest } from 'node:http';
import { isIP, type LookupFunction } from 'node:net';
import { networkError, privateAddress } from './errors';

/** Decides whether a resolved or connected IP address may be used. */
export type AddressCheck = (address: string) => boolean;

/**
 * Wraps a resolver so that only allowed addresses reach connect(). The addresses we check are the ones the
 * socket then uses, so a DNS answer that changes between a check and the connection (rebinding) cannot
 * slip through. A hostname whose every address is refused fails with the first refused address.
 */
export function guardLookup(resolve: LookupFunction, allowed: AddressCheck): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, result, family) => {
      if (error) return callback(error, '');
      const resolved: LookupAddress[] = Array.isArray(result)
        ? result
        : [{ address: result, family: family ?? isIP(result) }];
      const usable = resolved.filter((entry) => allowed(entry.address));
      const first = usable[0];
      if (first === undefined) {
        const refused = resolved[0]?.address;
        const noAddress = Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' });
        return callback(refused === undefined ? networkError(noAddress, 'connect') : privateAddress(refused), '');
      }
      if (options.all) callback(null, usable);
      else callback(null, first.address, first.family);
    });
  };
}

/** Node connects to IP-literal hosts without calling lookup, so those are checked here. Throws when refused. */
export function assertHostAllowed(hostname: string, allowed: AddressCheck): void {
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  if (isIP(bare) !== 0 && !allowed(bare)) throw privateAddress(bare);
}

/** Last line of defence: destroys the request if the socket ended up connected to a refused address. */
export function guardSocket(request: ClientRequest, allowed: AddressCheck): void {
  request.once('socket', (socket) => {
    const check = (): void => {
      const address = socket.remoteAddress;
      if (address === undefined || !allowed(address)) request.destroy(privateAddress(address ?? 'unknown'));
    };
    if (socket.connecting) socket.once('connect', check);
    else if (!socket.destroyed) check(); // a socket destroyed before connecting reports its own error
  });
}
