// The shape of SMTP_USERS_FILE and its validation: pure, so every rule is unit-tested without files.
// One call reports every problem at once, each named by user and field; password hashes never appear
// in a message (a plaintext password pasted by mistake must not end up in logs).
import bcrypt from 'bcryptjs';
import { z } from 'zod';
import { senderEntry } from '../config/sender-entries.js';
import { DEFAULT_BCRYPT_COST, MAX_BCRYPT_COST } from './password-verifier.js';

/** An authenticated submitter and the sending policy that comes with its credentials. */
export interface SmtpUser {
  username: string;
  /** Lower-cased addresses and "@domain" entries; empty means no per-user restriction. */
  allowedSenders: string[];
  configurationSet?: string;
  /** SES message tags, in the shape SESv2 takes them. */
  tags: { Name: string; Value: string }[];
  fromEmailAddressIdentityArn?: string;
  /** This user's share of the sending rate, in recipients per second. */
  rateShare?: number;
  /** Recipients this user may send in any 24 hours. */
  dailyCap?: number;
}

/** A user as loaded: the public record plus the hash, which never leaves the auth module. */
export interface StoredUser {
  user: SmtpUser;
  passwordHash: string;
}

/**
 * The prefixes only record which old implementation bugs a hash was made without; bcryptjs computes
 * $2a$, $2b$ and $2y$ alike, so htpasswd (`$2y$`) hashes are kept as they are. Cost 4–31 as bcrypt
 * allows here; costs above MAX_BCRYPT_COST are refused with a message of their own.
 */
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/;
/** SES message tag names and values: ASCII letters, digits, "_" and "-", at most 256 characters. */
const SES_TAG = /^[A-Za-z0-9_-]{1,256}$/;
/** SES configuration set names: letters, digits, "_" and "-", at most 64 characters. */
const SES_CONFIGURATION_SET = /^[A-Za-z0-9_-]{1,64}$/;
/** The ARN of a verified SES identity, in any partition (aws, aws-cn, aws-us-gov). */
const SES_IDENTITY_ARN = /^arn:aws[a-z-]*:ses:[a-z0-9-]+:\d{12}:identity\/[^\s/]+$/;
/** Printable ASCII without spaces: what SMTP clients can reliably send in AUTH PLAIN and LOGIN. */
const USERNAME = /^[\x21-\x7e]{1,256}$/;
/** Far above any SES sending quota: a larger share is a typo, not a plan. */
const MAX_RATE_SHARE_PER_SECOND = 100_000;

const tagValue = z.union([z.string(), z.number()]).transform((value) => String(value));

const userSchema = z.strictObject({
  username: z.string().regex(USERNAME, 'expected 1–256 printable ASCII characters without spaces'),
  password: z
    .string()
    .regex(BCRYPT_HASH, {
      message: 'expected a bcrypt hash ($2a$, $2b$ or $2y$); create one with `ses-relay user hash`',
      abort: true,
    })
    .superRefine((hash, ctx) => {
      // An unknown name is checked against a dummy as costly as the dearest hash in the file: one
      // hash above the cap would make every AUTH with a made-up name cost seconds to minutes of CPU.
      const cost = bcrypt.getRounds(hash);
      if (cost > MAX_BCRYPT_COST) {
        ctx.addIssue({
          code: 'custom',
          message:
            `bcrypt cost ${cost} is above ${MAX_BCRYPT_COST}, the most accepted: an unknown name is ` +
            "checked at the file's highest cost, so every AUTH would take that much CPU; rehash it " +
            `with \`ses-relay user hash\` (cost ${DEFAULT_BCRYPT_COST} by default)`,
        });
      }
    }),
  allowedSenders: z
    .array(
      z.string().transform((entry, ctx) => {
        const normalized = senderEntry(entry);
        if (normalized === undefined) {
          ctx.addIssue({ code: 'custom', message: 'expected an address or an @domain entry' });
          return z.NEVER;
        }
        return normalized;
      }),
    )
    .default([]),
  configurationSet: z
    .string()
    .regex(SES_CONFIGURATION_SET, 'expected up to 64 letters, digits, "_" or "-"')
    .optional(),
  tags: z
    .record(
      z.string().regex(SES_TAG, 'tag names may hold only letters, digits, "_" and "-" (at most 256)'),
      tagValue.pipe(
        z.string().regex(SES_TAG, 'tag values may hold only letters, digits, "_" and "-" (at most 256)'),
      ),
    )
    .default({}),
  fromEmailAddressIdentityArn: z
    .string()
    .regex(SES_IDENTITY_ARN, 'expected an SES identity ARN (arn:aws:ses:<region>:<account>:identity/<name>)')
    .optional(),
  rateShare: z.number().positive().max(MAX_RATE_SHARE_PER_SECOND).optional(),
  dailyCap: z.number().int('expected a whole number').positive().optional(),
});

const fileSchema = z.strictObject({ users: z.array(z.unknown()) });

export type ValidationResult = { ok: true; users: StoredUser[] } | { ok: false; issues: string[] };

function describePath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.join(', ')}`;
  // A bad record key comes wrapped; the inner issue carries the rule that was broken.
  if (issue.code === 'invalid_key') return issue.issues[0]?.message ?? issue.message;
  return issue.message;
}

function issueLines(error: z.ZodError, prefix: string): string[] {
  return error.issues.map((issue) => {
    const where = describePath(issue.path);
    const subject = prefix !== '' && where !== '' ? `${prefix}.${where}` : prefix + where;
    return subject === '' ? issueMessage(issue) : `${subject}: ${issueMessage(issue)}`;
  });
}

function userLabel(raw: unknown, index: number): string {
  const name =
    typeof raw === 'object' && raw !== null && 'username' in raw && typeof raw.username === 'string'
      ? ` (${JSON.stringify(raw.username.slice(0, 64))})`
      : '';
  return `users[${index}]${name}`;
}

function toStored(data: z.output<typeof userSchema>): StoredUser {
  const user: SmtpUser = {
    username: data.username,
    allowedSenders: [...new Set(data.allowedSenders)],
    tags: Object.entries(data.tags).map(([Name, Value]) => ({ Name, Value })),
  };
  if (data.configurationSet !== undefined) user.configurationSet = data.configurationSet;
  if (data.fromEmailAddressIdentityArn !== undefined) {
    user.fromEmailAddressIdentityArn = data.fromEmailAddressIdentityArn;
  }
  if (data.rateShare !== undefined) user.rateShare = data.rateShare;
  if (data.dailyCap !== undefined) user.dailyCap = data.dailyCap;
  return { user: Object.freeze(user), passwordHash: data.password };
}

/** Validates a parsed users file (`{ users: [...] }`); every problem is reported, not just the first. */
export function validateUsers(data: unknown): ValidationResult {
  const file = fileSchema.safeParse(data);
  if (!file.success) {
    const shape = typeof data === 'object' && data !== null && !Array.isArray(data);
    return {
      ok: false,
      issues: shape ? issueLines(file.error, '') : ['expected a mapping with a "users" list'],
    };
  }
  const issues: string[] = [];
  const users: StoredUser[] = [];
  const seen = new Map<string, number>();
  file.data.users.forEach((raw, index) => {
    const label = userLabel(raw, index);
    const parsed = userSchema.safeParse(raw);
    if (!parsed.success) {
      issues.push(...issueLines(parsed.error, label));
      return;
    }
    const first = seen.get(parsed.data.username);
    if (first !== undefined) {
      issues.push(`${label}.username: duplicate of users[${first}]`);
      return;
    }
    seen.set(parsed.data.username, index);
    users.push(toStored(parsed.data));
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, users };
}
