import type { ICredentialDataDecryptedObject, IDataObject, IExecuteFunctions, INodeExecutionData, ITriggerFunctions, IWebhookFunctions } from 'n8n-workflow';
import { tempDir } from '../support/temp';

export const TOKEN = 'n8n-test-token-0123456789';
export const DRY_RUN_PHONE = '+15105566777';

/** Credential values for a fresh store in a temp folder, with one dry-run account and a known token. */
export function testCredential(overrides: ICredentialDataDecryptedObject = {}): { credential: ICredentialDataDecryptedObject; cleanup: () => void } {
  const dir = tempDir('wahook-n8n-');
  return {
    credential: {
      workspaceName: 'test',
      dataFolder: dir.path,
      quotaAllowance: 1000,
      quotaPeriod: 'daily',
      refundDelayMinutes: 0,
      gapMinSeconds: 0,
      gapMaxSeconds: 0.01,
      capPerHour: 0,
      capPerDay: 0,
      allowPrivateFileUrls: false,
      dryRunPhones: DRY_RUN_PHONE,
      initialToken: TOKEN,
      ...overrides,
    },
    cleanup: dir.cleanup,
  };
}

/** What the trigger wrote to n8n's response object. */
export interface RecordedResponse {
  status?: number;
  headers: Record<string, string>;
  body?: unknown;
}

export interface WebhookRequest {
  readonly method?: string;
  readonly contentType?: string;
  readonly body?: string | Buffer;
  readonly token?: string;
}

/** A mocked IWebhookFunctions over a request as n8n passes it (raw bytes in rawBody, token in params). */
export function webhookContext(
  credential: ICredentialDataDecryptedObject,
  request: WebhookRequest,
  parameters: IDataObject = {},
  mode: 'webhook' | 'manual' = 'webhook',
): { context: IWebhookFunctions; response: RecordedResponse } {
  const response: RecordedResponse = { headers: {} };
  const res = {
    status(code: number) {
      response.status = code;
      return res;
    },
    setHeader(name: string, value: string) {
      response.headers[name] = value;
      return res;
    },
    json(body: unknown) {
      response.body = body;
      return res;
    },
  };
  const raw = request.body === undefined ? undefined : Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body, 'utf8');
  const req = {
    method: request.method ?? 'POST',
    headers: request.contentType === undefined ? {} : { 'content-type': request.contentType },
    rawBody: raw,
    body: {},
    ip: '203.0.113.7',
  };
  const params: IDataObject = { mode: 'queue', emission: 'each', batchWindowSeconds: 5, emitStatus: true, ...parameters };
  const context = {
    getCredentials: async () => credential,
    getParamsData: () => ({ token: request.token ?? TOKEN }),
    getRequestObject: () => req,
    getResponseObject: () => res,
    getNodeParameter: (name: string, fallback?: unknown) => (name in params ? params[name] : fallback),
    getMode: () => mode,
    getWebhookName: () => 'default',
    getWorkflow: () => ({ id: 'wf-1', name: 'test', active: true }),
    getNode: () => ({ name: 'WhatsApp Inbound Webhook Trigger', type: 'CUSTOM.whatsAppTrigger', typeVersion: 1, parameters: {} }),
  };
  return { context: context as unknown as IWebhookFunctions, response };
}

/**
 * A mocked ITriggerFunctions that records what the node emits. Each emission's execution "ends" at once,
 * unless `holdExecutions` is set: then `finish` ends the oldest running one, as n8n would when it is done.
 */
export function triggerContext(
  credential: ICredentialDataDecryptedObject,
  parameters: IDataObject = {},
  holdExecutions = false,
): { context: ITriggerFunctions; emitted: INodeExecutionData[][][]; finish: () => void; logged: string[] } {
  const emitted: INodeExecutionData[][][] = [];
  const running: (() => void)[] = [];
  const logged: string[] = [];
  const params: IDataObject = { mode: 'queue', emission: 'each', batchWindowSeconds: 5, emitStatus: true, ...parameters };
  const context = {
    getCredentials: async () => credential,
    // As n8n: a parameter the node does not have (hidden by its display options) needs a fallback.
    getNodeParameter: (name: string, fallback?: unknown) => {
      if (name in params) return params[name];
      if (fallback === undefined) throw new Error(`Could not get parameter "${name}"`);
      return fallback;
    },
    getMode: () => 'trigger',
    getWorkflow: () => ({ id: 'wf-1', name: 'test', active: true }),
    getNode: () => ({ name: 'WhatsApp Inbound Webhook Trigger', type: 'CUSTOM.whatsAppTrigger', typeVersion: 1, parameters: {} }),
    emit: (data: INodeExecutionData[][], _response?: unknown, done?: { resolve: (run: undefined) => void }) => {
      emitted.push(data);
      if (!done) return;
      if (holdExecutions) running.push(() => done.resolve(undefined));
      else setImmediate(() => done.resolve(undefined));
    },
    logger: { info: (message: string) => logged.push(message), debug: () => undefined, warn: () => undefined, error: (message: string) => logged.push(message) },
    helpers: {
      createDeferredPromise: () => {
        const deferred: { promise?: Promise<unknown>; resolve?: (value: unknown) => void; reject?: (error: Error) => void } = {};
        deferred.promise = new Promise((resolve, reject) => Object.assign(deferred, { resolve, reject }));
        return deferred;
      },
      prepareBinaryData: async (data: Buffer, fileName: string, mimeType: string) => ({
        data: data.toString('base64'),
        fileName,
        mimeType,
        fileSize: String(data.length),
      }),
    },
  };
  return { context: context as unknown as ITriggerFunctions, emitted, finish: () => running.shift()?.(), logged };
}

/** A mocked IExecuteFunctions: one parameter set for every item. */
export function executeContext(
  credential: ICredentialDataDecryptedObject,
  parameters: IDataObject,
  items: INodeExecutionData[] = [{ json: {} }],
  options: { continueOnFail?: boolean; responses?: unknown[] } = {},
): IExecuteFunctions {
  const context = {
    sendResponse: async (response: unknown) => {
      options.responses?.push(response);
    },
    getCredentials: async () => credential,
    getInputData: () => items,
    getNodeParameter: (name: string, _itemIndex: number, fallback?: unknown) => (name in parameters ? parameters[name] : fallback),
    getWorkflow: () => ({ id: 'wf-1', name: 'test', active: true }),
    getNode: () => ({ name: 'WhatsApp', type: 'CUSTOM.whatsApp', typeVersion: 1, parameters: {} }),
    continueOnFail: () => options.continueOnFail === true,
    helpers: {
      getBinaryDataBuffer: async (itemIndex: number, property: string) =>
        Buffer.from(items[itemIndex]?.binary?.[property]?.data ?? '', 'base64'),
      prepareBinaryData: async (data: Buffer, fileName: string, mimeType: string) => ({
        data: data.toString('base64'),
        fileName,
        mimeType,
        fileSize: String(data.length),
      }),
    },
  };
  return context as unknown as IExecuteFunctions;
}

export const json = (value: unknown): string => JSON.stringify(value);

/** Waits until `check` passes or the time is up. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
