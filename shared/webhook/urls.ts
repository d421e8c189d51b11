/**
 * Where an engine serves a workspace's webhook: each active entry point (an n8n trigger, a Node-RED
 * node) records its public URL templates when it starts serving and removes them when it stops, so a
 * user can be handed the URL ready to paste. Templates hold `:token` in place of the secret: the store
 * never keeps a copy of the token, and a rotation shows in the next read.
 */

/** The placeholder engines put where the token goes (n8n's own notation for a path parameter). */
export const TOKEN_PLACEHOLDER = ':token';

/** What an entry point records while it serves (templates: `:token` where the token goes). */
export interface PublishedWebhook {
  /** The flow (n8n workflow) and node that serve it: the key of the record. */
  readonly flowId: string;
  readonly nodeId: string;
  /** A name for people: the workflow and node names. */
  readonly label: string;
  /** The URL through the engine's own route, e.g. https://n8n.example.com/webhook/<id>/whatsapp/:token. */
  readonly urlTemplate: string;
  /** The same webhook on the node's Dedicated Port, when one is set. */
  readonly dedicatedUrlTemplate: string | null;
  /** Where this entry point serves link pages (`:linkToken` in place of the link's token), if it does. */
  readonly linkUrlTemplate: string | null;
}

/** A recorded entry point with the workspace's current token filled in. */
export interface WebhookUrl {
  readonly flowId: string;
  readonly nodeId: string;
  readonly label: string;
  readonly url: string;
  readonly dedicatedUrl: string | null;
  readonly publishedAt: number;
}

/** The template with `token` in place of `:token`; the token is URL-safe (letters, digits, - and _). */
export function fillToken(template: string, token: string): string {
  return template.split(TOKEN_PLACEHOLDER).join(token);
}

/**
 * The Dedicated Port's public URL: the host the node listens on when it names one, else the host of the
 * engine's public webhook URL (the port is served by the same machine), over plain HTTP as the port is.
 */
export function dedicatedUrlTemplate(publicUrlTemplate: string, listenHost: string | undefined, port: number): string {
  const wildcard = listenHost === undefined || listenHost === '0.0.0.0' || listenHost === '::';
  let host = wildcard ? '' : listenHost;
  if (host === '') {
    try {
      host = new URL(publicUrlTemplate).hostname;
    } catch {
      host = 'localhost';
    }
  }
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${bracketed}:${port}/whatsapp/${TOKEN_PLACEHOLDER}`;
}
