// The admin capability: the operators' HTTP surface under /admin (auth, Bull Board, JSON API, page).
// The HTTP role mounts `createAdminRouter(...).router` at the app root and logs `warning` at start-up.
export { createAdminRouter, type AdminDeps, type AdminRouter } from './admin-router.js';
export { IMPORT_BODY_LIMIT_BYTES } from './api-suppressions.js';
export { JSON_BODY_LIMIT_BYTES } from './body-types.js';
export type { AdminAuthOptions } from './auth.js';
export { ADMIN_ERRORS, AdminError, type AdminErrorCode } from './errors.js';
export { QUEUE_BOARD_PATH } from './queue-board.js';
