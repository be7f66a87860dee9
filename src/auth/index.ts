// SMTP AUTH: the users file and its reloads, password checks, the shared failure throttle and the
// `user hash` command.
export {
  createAuthThrottle,
  DEFAULT_BUSY_WAIT_MS,
  DEFAULT_THROTTLE_TIMEOUT_MS,
  type AttemptDecision,
  type AuthThrottle,
  type AuthThrottleOptions,
  type FailureResult,
  type ThrottleDecision,
} from './auth-throttle.js';
export { HashCommandError, registerUserCommands, runHashCommand } from './cli-hash.js';
export { clientKey } from './client-key.js';
export { DEFAULT_BCRYPT_COST } from './password-verifier.js';
export {
  createUserDirectory,
  DEFAULT_AUTH_CACHE_TTL_MS,
  parseUsersText,
  UsersFileError,
  type ReloadOutcome,
  type SmtpUser,
  type UserDirectory,
  type UserDirectoryOptions,
} from './users-file.js';
