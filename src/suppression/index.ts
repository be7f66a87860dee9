// The suppression capability: a Redis store of addresses not to send to, and the address normalisation
// every caller shares.
export { normalizeAddress } from './normalize.js';
export { isHashedAddress } from './privacy.js';
export { createSuppressionStore, type SuppressionStore, type SuppressionStoreOptions } from './store.js';
export type {
  ImportRecord,
  ImportResult,
  ListOptions,
  ListPage,
  SoftBounceOptions,
  SuppressionDetails,
  SuppressionHit,
  SuppressionReason,
  SuppressionRecord,
} from './types.js';
