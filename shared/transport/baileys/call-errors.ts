import { CallTimeoutError } from '../../time/clock';
import { TransportError } from '../types';
import { disconnectCode } from './baileys-module';
import type { SendingSocket } from './sender';
import { describe } from './words';

/**
 * Why a call on the socket failed, as the core handles it: a timeout is transient (`timedOut` says
 * what happens next); a socket closed under our feet (428, 408) or not logged in (Baileys throws a
 * TypeError) is unavailable, and the session treats its socket as closed at once so callers wait
 * for the reconnect; anything else is transient.
 */
export function socketCallError(error: unknown, socket: SendingSocket, doing: string, timedOut: string): TransportError {
  if (error instanceof TransportError) return error;
  if (error instanceof CallTimeoutError) return new TransportError('transient', timedOut);
  const code = disconnectCode(error);
  if (code === 428 || code === 408 || error instanceof TypeError || socket.state !== 'open') {
    socket.dropped(error);
    return new TransportError('unavailable', `The connection to WhatsApp dropped while ${doing}; it resumes after the reconnect.`);
  }
  return new TransportError('transient', `WhatsApp failed while ${doing}: ${describe(error)}`);
}
