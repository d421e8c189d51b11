import type { ILogger } from './baileys-module';

/** Where the transport's own warnings go (an engine's log); Baileys' chatter is silenced by default. */
export type LogSink = (level: 'warn' | 'error', message: string) => void;

/** A logger that drops everything: Baileys logs at info level by default, far too much for a node. */
export const SILENT_LOGGER: ILogger = {
  level: 'silent',
  child: () => SILENT_LOGGER,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
