import type { AuthStateRepository } from '../../store/types';
import type { Clock } from '../../time/clock';
import type { BaileysModule, ILogger, SocketFactory } from './baileys-module';
import type { DirectorySink } from './directory-sync';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './disconnect-policy';
import { SILENT_LOGGER } from './logger';
import { DEFAULT_PHONE_CACHE, type PhoneCacheOptions } from './phone-cache';

/** Typing presence before a text: `msPerChar` of the text's length, kept within [minMs, maxMs]. */
export interface TypingPolicy {
  readonly msPerChar: number;
  readonly minMs: number;
  readonly maxMs: number;
}

export const DEFAULT_TYPING: TypingPolicy = { msPerChar: 30, minMs: 500, maxMs: 3_000 };

export interface BaileysConnectionOptions {
  /** WhatsApp Web's WebSocket address; tests point it at a local fake server. Default: Baileys' own. */
  readonly waWebSocketUrl?: string;
  /** The WebSocket and Noise handshakes (Baileys' `connectTimeoutMs`). */
  readonly connectTimeoutMs?: number;
  /** From a new socket to `open`; a socket that gets no further is dropped and retried with backoff. */
  readonly openTimeoutMs?: number;
  /** Every call on the socket: send, number lookup, group fetch, presence, pairing, logout. */
  readonly callTimeoutMs?: number;
  /** A received message's media download, with its re-upload from the phone when the file expired. */
  readonly mediaDownloadTimeoutMs?: number;
  readonly keepAliveIntervalMs?: number;
  readonly backoff?: BackoffPolicy;
  /** How long a 463 ("restricted from starting new chats") pauses sending when WhatsApp gives no end. */
  readonly restrictionPauseMs?: number;
  /** Typing presence before each text (off by default: it slows every send). */
  readonly typing?: TypingPolicy | false;
  readonly phoneCache?: Partial<PhoneCacheOptions>;
  /** Baileys' logger (silent by default). */
  readonly logger?: ILogger;
}

export interface BaileysConnectionDeps {
  readonly accountId: string;
  /** The account's number if already known (digits). */
  readonly phone: string | null;
  readonly auth: AuthStateRepository;
  readonly directory: DirectorySink;
  /** The text of a message we sent, so Baileys can resend it when a recipient's device asks. */
  readonly messageText: (messageId: string) => Promise<string | undefined>;
  readonly makeSocket?: SocketFactory;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly baileys?: BaileysModule;
  /** Errors that belong to no message (a store write that failed); engines log them. */
  readonly onError?: (error: unknown) => void;
}

/** The options with every default filled in. */
export interface ConnectionSettings {
  readonly waWebSocketUrl: string | undefined;
  readonly connectTimeoutMs: number;
  readonly openTimeoutMs: number;
  readonly callTimeoutMs: number;
  readonly mediaDownloadTimeoutMs: number;
  readonly keepAliveIntervalMs: number;
  readonly restrictionPauseMs: number;
  readonly backoff: BackoffPolicy;
  readonly typing: TypingPolicy | false;
  readonly phoneCache: PhoneCacheOptions;
  readonly logger: ILogger;
}

const DEFAULTS = {
  connectTimeoutMs: 20_000,
  openTimeoutMs: 60_000,
  callTimeoutMs: 30_000,
  mediaDownloadTimeoutMs: 120_000,
  keepAliveIntervalMs: 30_000,
  restrictionPauseMs: 24 * 3_600_000,
};

export function connectionSettings(options: BaileysConnectionOptions): ConnectionSettings {
  return {
    waWebSocketUrl: options.waWebSocketUrl,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    openTimeoutMs: options.openTimeoutMs ?? DEFAULTS.openTimeoutMs,
    callTimeoutMs: options.callTimeoutMs ?? DEFAULTS.callTimeoutMs,
    mediaDownloadTimeoutMs: options.mediaDownloadTimeoutMs ?? DEFAULTS.mediaDownloadTimeoutMs,
    keepAliveIntervalMs: options.keepAliveIntervalMs ?? DEFAULTS.keepAliveIntervalMs,
    restrictionPauseMs: options.restrictionPauseMs ?? DEFAULTS.restrictionPauseMs,
    backoff: options.backoff ?? DEFAULT_BACKOFF,
    typing: options.typing ?? false,
    phoneCache: { ...DEFAULT_PHONE_CACHE, ...options.phoneCache },
    logger: options.logger ?? SILENT_LOGGER,
  };
}

