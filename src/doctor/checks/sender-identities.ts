// Each allowed sender (SMTP_ALLOWED_SENDERS) must be an SES identity verified for sending, or SES
// refuses its mail at send time, after the client was told 250. An address may be covered by its own
// identity, its domain's, or that of any parent domain (SES: a verified example.com covers
// a.example.com and user@a.b.example.com); DKIM (SUCCESS) decides whether the mail is signed for its
// domain.
import { GetEmailIdentityCommand, type GetEmailIdentityCommandOutput } from '@aws-sdk/client-sesv2';
import { sesErrorFacts } from '../../ses/classify.js';
import { describeSdkError } from '../sdk-error.js';
import { type CheckResult, type DoctorCheck, type DoctorContext, fail, ok, warn } from '../types.js';
import { SES_ACCOUNT } from './ses-account.js';

const ID = 'ses.identity';

export interface IdentityFacts {
  identity: string;
  verified: boolean;
  dkimStatus: string | undefined;
}

/**
 * The identities that could cover an allowed-sender entry, most specific first: the address, its
 * domain, then each parent domain down to two labels (a top-level domain is never an identity).
 */
export function candidateIdentities(entry: string): string[] {
  const at = entry.lastIndexOf('@');
  const labels = entry.slice(at + 1).split('.');
  const domains = labels.slice(0, Math.max(1, labels.length - 1)).map((_, i) => labels.slice(i).join('.'));
  return at <= 0 ? domains : [entry, ...domains];
}

/** `role` names what the entry is in the messages: an allowed sender, or DSN_FROM. */
export function evaluateIdentity(
  entry: string,
  facts: IdentityFacts | undefined,
  region: string,
  role = 'sender',
): CheckResult {
  const label = entry.startsWith('@') ? `${role} domain ${entry.slice(1)}` : `${role} ${entry}`;
  const domain = entry.slice(entry.lastIndexOf('@') + 1);
  if (!facts) {
    return fail(
      ID,
      `${label}: no SES identity for it in ${region}; SES will refuse its mail`,
      `aws sesv2 create-email-identity --email-identity ${domain} --region ${region}, then publish the DKIM CNAME records it returns`,
    );
  }
  const dkimFix = `publish the DKIM CNAME records shown by: aws sesv2 get-email-identity --email-identity ${facts.identity} --region ${region}`;
  if (!facts.verified) {
    return fail(
      ID,
      `${label}: identity ${facts.identity} is not verified for sending; SES will refuse its mail`,
      facts.identity.includes('@') ? `open the verification link SES mailed to ${facts.identity}` : dkimFix,
    );
  }
  if (facts.dkimStatus !== 'SUCCESS') {
    return warn(
      ID,
      `${label}: verified (${facts.identity}), but DKIM is ${facts.dkimStatus ?? 'not set up'}: mail is not signed for ${domain} and may fail DMARC`,
      facts.identity.includes('@')
        ? `verify the domain ${domain} with Easy DKIM: aws sesv2 create-email-identity --email-identity ${domain}`
        : dkimFix,
    );
  }
  return ok(ID, `${label}: verified (${facts.identity}), DKIM SUCCESS`);
}

async function lookup(ctx: DoctorContext, identity: string): Promise<IdentityFacts | undefined> {
  let reply: GetEmailIdentityCommandOutput;
  try {
    reply = await ctx.ses.send(new GetEmailIdentityCommand({ EmailIdentity: identity }));
  } catch (err) {
    if (sesErrorFacts(err).name === 'NotFoundException') return undefined;
    throw err;
  }
  return {
    identity,
    verified: reply.VerifiedForSendingStatus === true,
    dkimStatus: reply.DkimAttributes?.Status,
  };
}

/** The first verified candidate wins; otherwise the most specific identity that exists. */
async function factsFor(ctx: DoctorContext, entry: string): Promise<IdentityFacts | undefined> {
  let found: IdentityFacts | undefined;
  for (const identity of candidateIdentities(entry)) {
    const facts = await lookup(ctx, identity);
    if (facts?.verified) return facts;
    found ??= facts;
  }
  return found;
}

async function check(ctx: DoctorContext, entry: string, role: string): Promise<CheckResult> {
  try {
    return evaluateIdentity(entry, await factsFor(ctx, entry), ctx.config.AWS_REGION, role);
  } catch (err) {
    return fail(ID, `${role} ${entry}: GetEmailIdentity failed: ${describeSdkError(err)}`);
  }
}

export const senderIdentitiesCheck: DoctorCheck = {
  id: ID,
  needs: [SES_ACCOUNT],
  async run(ctx) {
    const entries = ctx.config.SMTP_ALLOWED_SENDERS;
    const results: CheckResult[] = [];
    if (entries.length === 0) {
      results.push(
        warn(
          ID,
          'SMTP_ALLOWED_SENDERS is empty: any sender is accepted, and SES refuses unverified ones only at send time',
          'list your verified senders (addresses or @domain entries) in SMTP_ALLOWED_SENDERS',
        ),
      );
    }
    for (const entry of entries) results.push(await check(ctx, entry, 'sender'));
    // The gateway sends its delivery status notifications from DSN_FROM: SES refuses every one of
    // them when it is not a verified identity, and the senders never hear of their failed mail.
    if (ctx.config.DSN_FROM) results.push(await check(ctx, ctx.config.DSN_FROM, 'DSN_FROM'));
    return results;
  },
};
