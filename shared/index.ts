/**
 * The engine-agnostic core. The n8n and Node-RED adapters import only from here; nothing here imports
 * either engine.
 */
// First: on a Node.js too old for the package, loading stops with a sentence saying so.
import './require-supported-node';

export {
  Workspace,
  type WorkspaceOptions,
  type Acceptance,
  type AttemptSource,
  type TokenCheck,
  type AcceptOrigin,
  type FollowOptions,
  type FeedFollower,
  type AccountConnection,
  type BaileysAccountsOptions,
  type LinkOptions,
  type WorkspaceHealth,
} from './workspace/workspace';
export { WorkspaceRegistry, workspaces, type WorkspaceLease, type HoldOptions } from './hosting/registry';
export { RetryingLease, REOPEN_DELAY_MS, type RetryingLeaseOptions } from './hosting/retrying-lease';
export { unavailable, describeStoreFault, RETRY_AFTER_SECONDS } from './unavailable';
export { tokenFromPath } from './webhook/token-path';
export { handleWebhookCall, serveWebhookCall, screenWebhookCall, answer, MAX_BODY_BYTES, type WebhookCall, type WebhookAnswer, type WebhookOutcome, type ScreenedCall } from './webhook/webhook';
export { createWebhookServer, WEBHOOK_PATH_PREFIX } from './webhook/standalone-server';
export { readBody } from './webhook/read-body';
export { serveCloudApiCall, cloudApiQueryOf, CLOUD_API_PATH_SEGMENT, CLOUD_API_MAX_BODY_BYTES, type CloudApiCall, type CloudApiAnswer } from './webhook/cloud-api-webhook';
export { cloudApiAccountId, CLOUD_API_GAP } from './transport/cloud-api/driver';
export { CLOUD_API_FIELDS } from './hosting/cloud-api-settings';
export { checkCloudApiNumber, describeCloudApiNumber } from './hosting/cloud-api-check';
export { cloudApiNumbersFor } from './hosting/workspace-options';
export { parseSendRequest, parseJsonBody, validateSendPayload, normalizePhone, normalizeJid } from './contract';
export type { SendRequest, RecipientRef, RecipientField } from './contract/types';
export { successBody, errorBody, errorBodyFor, INTERNAL_ERROR_SENTENCE, type SuccessBody, type ErrorBody } from './contract/responses';
export { externalMessageId, internalMessageId } from './contract/message-id';
export { newMessageId } from './outbox/message-id';
export { SqliteStore, type SqliteOptions, type Durability } from './store/sqlite';
export { PostgresStore, type PostgresOptions } from './store/postgres';
export type { WorkspaceStore, DryRunRecord } from './store/types';
export { DryRunTransport, DRY_RUN_NOT_ON_WHATSAPP_SUFFIX } from './transport/dry-run';
export { TransportError, type Transport, type TransportErrorKind, type OutgoingMedia, type StatusUpdate, type PhoneLookup } from './transport/types';
export type { Rejection, RejectionStatus, Result } from './rejection';
export type * from './model';
export { FAILURE_CAUSES } from './model';
export { downloadAttachment, AttachmentError, isPublicAddress, detectMediaType } from './attachments';
export type { DownloadPolicy, DownloadedFile, MediaKind } from './attachments/types';
export { summarizeAttempts, attemptLogJson, type AttemptSummary } from './attempts/summary';
export { workspaceOverview, lastFailures, OVERVIEW_FAILURES, type WorkspaceOverview, type AccountOverview, type FailureSummary } from './workspace/overview';
export { WebhookRoutes, OPENING } from './webhook/routes';
export { REPORTED_STATUSES, acceptedPayload, fedPayload, lifecyclePayload, type AcceptedPayload } from './outbox/payloads';
export { LinkHandle, qrDataUrl, qrTerminal, formatPairingCode, type QrCode, type LinkedIdentity } from './transport/linking';
export { BaileysConnection, DEFAULT_TYPING, type BaileysConnectionOptions, type TypingPolicy, type ConnectionInfo } from './transport/baileys/connection';
export { DEFAULT_LOGGED_OUT_TTL_MS } from './dispatch/logged-out-expiry';
export { parseWorkspaceSettings, DEFAULT_SETTINGS, type WorkspaceSettings } from './hosting/settings';
export { workspaceOptionsFor } from './hosting/workspace-options';
export {
  ScrapeToken,
  presentedScrapeToken,
  checkScrape,
  metricsAnswer,
  healthAnswer,
  serveMetricsEndpoint,
  metricsEndpointOf,
  refusal,
  SCRAPE_TOKEN_MISSING,
  SCRAPE_TOKEN_WRONG,
  SCRAPE_TOKEN_UNSET,
  type MetricsEndpoint,
  type EndpointAnswer,
} from './hosting/metrics-endpoints';
export { WorkspaceMetrics, METRIC_ACCOUNT_STATES, SEND_GAP_BUCKETS } from './metrics/workspace-metrics';
export { parseStoreChoice, sharedAcrossProcesses, storeKeyOf, DEFAULT_PG_PORT, type StoreChoice, type PostgresSsl } from './hosting/store-choice';
export { checkStore, describeStoreReport, type StoreReport, type AccountOwnership } from './hosting/store-check';
export { storePathFor } from './hosting/storage-paths';
export { ensureDryRunAccounts, ensureConfiguredAccounts } from './hosting/dry-run-seeding';
export { feedFollowing, type FeedFollowing } from './hosting/feed-following';
export { LingeringLeases } from './hosting/lingering-leases';
export { sendFromFlow, type FlowSend, type FlowAttachment } from './hosting/send-from-flow';
export { startLinkSession, type LinkSession, type LinkSessionOptions } from './hosting/link-session';
export { fillToken, dedicatedUrlTemplate, TOKEN_PLACEHOLDER, type PublishedWebhook, type WebhookUrl } from './webhook/urls';
export { LinkPages, LinkPageSession, fillLinkToken, LINK_PAGE_SENTENCES, LINK_TOKEN_PLACEHOLDER, type LinkPageAnswer, type LinkPageState, type LinkPageRefusal } from './linking/link-pages';
export { parseReceivedTriggerSettings, RECEIVED_KINDS, DEFAULT_MEDIA_LIMIT_MB, type ReceivedTriggerSettings } from './hosting/trigger-settings';
export { matchesFilter, type ReceivedFilter } from './inbound/filter';
export type { ReceivedMessage, ReceivedParty } from './inbound/received';
export type { ReceivedItem, ReceivedMedia, ReceivedFollowOptions } from './workspace/received-messages';
