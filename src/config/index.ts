export { loadConfig, loadEnvironment, parseConfig, hasAwsCredentialHints } from './load.js';
export { openRelayRisk } from './open-relay.js';
export { settingFileProblems } from './setting-files.js';
export { unknownSettings, type UnknownSetting } from './unknown-settings.js';
export {
  envSchema,
  ROLE_NAMES,
  SES_MAX_MESSAGE_BYTES,
  type Config,
  type EnvInput,
  type Role,
} from './schema.js';
export type { Cidr } from './parsers.js';
