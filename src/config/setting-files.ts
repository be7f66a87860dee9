// The files settings name (certificates, the SMTP users file) are loaded as each role starts, and the
// first that cannot be read ends start-up alone: an operator would fix them one restart at a time.
// The gateway checks up front that it can open each file its roles will load, so that one start-up
// message names them all with the bad values. Only that: what is in them is checked when the role
// loads them (tls/certificates.ts, auth/users-file.ts), with messages of their own.
import fs from 'node:fs';
import { envSchema, type EnvInput, type Role } from './schema.js';

/** Each file setting, and the role that loads it. */
const FILE_SETTINGS: Readonly<Record<string, Role>> = {
  SMTP_TLS_CERT: 'smtp',
  SMTP_TLS_KEY: 'smtp',
  SMTP_USERS_FILE: 'smtp',
  HTTP_TLS_CERT: 'http',
  HTTP_TLS_KEY: 'http',
};

/** Why `file` cannot be read (an errno code), or undefined when it can. */
function unreadable(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    // A directory opens for reading, and fails only when read.
    return fs.fstatSync(fd).isDirectory() ? 'EISDIR' : undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'error';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * One line per file the configured roles would load and cannot open. Only the roles' files: with a
 * ConfigMap shared by every Deployment (docker/k8s), the worker's pod need not mount the SMTP
 * certificate. Nothing when ROLES itself is refused (its own message says so).
 */
export function settingFileProblems(env: EnvInput): string[] {
  const roles = envSchema.in.shape.ROLES.safeParse(env.ROLES);
  if (!roles.success) return [];
  const problems: string[] = [];
  for (const [key, role] of Object.entries(FILE_SETTINGS)) {
    const file = env[key]?.trim();
    if (!file || !roles.data.includes(role)) continue;
    const code = unreadable(file);
    if (code !== undefined) problems.push(`  ${key}: cannot read ${file} (${code})`);
  }
  return problems;
}
