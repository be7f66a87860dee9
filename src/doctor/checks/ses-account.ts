// The SES account as GetAccount reports it: reachable with these credentials, sending enabled,
// out of the sandbox, in good standing. The first result (`ses.account`) says whether SES answered
// at all; the SES checks after it need that.
import type { Config } from '../../config/index.js';
import { readAccount, type AccountState } from '../../ses/account.js';
import { sesErrorFacts } from '../../ses/classify.js';
import { egressProxyOf, proxyLabel } from '../../shared/egress-proxy.js';
import { describeSdkError, sesTarget } from '../sdk-error.js';
import { type CheckResult, type DoctorCheck, fail, ok, warn } from '../types.js';

export const SES_ACCOUNT = 'ses.account';

/** Why SES could not be asked, with the fix; keyed on what the SDK threw. */
export function explainSesFailure(err: unknown, region: string, endpoint?: string): CheckResult {
  const facts = sesErrorFacts(err);
  const what = `${sesTarget(region, endpoint)} did not answer GetAccount: ${describeSdkError(err)}`;
  if (facts.name === 'CredentialsProviderError') {
    return fail(
      SES_ACCOUNT,
      what,
      'provide AWS credentials: AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or an instance/task role',
    );
  }
  if (
    facts.httpStatus === 403 ||
    /AccessDenied|UnrecognizedClient|InvalidClientTokenId|SignatureDoesNotMatch/.test(facts.name)
  ) {
    return fail(
      SES_ACCOUNT,
      what,
      'check the credentials and that their IAM policy allows ses:GetAccount, ses:GetEmailIdentity, ses:GetConfigurationSet* and ses:SendRawEmail',
    );
  }
  return fail(
    SES_ACCOUNT,
    what,
    'check AWS_REGION, SES_ENDPOINT (if set) and outbound HTTPS to the SES endpoint',
  );
}

export function evaluateAccount(account: AccountState, region: string, endpoint?: string): CheckResult[] {
  const quota = Number.isFinite(account.max24HourSend) ? String(account.max24HourSend) : 'unlimited';
  const results = [
    ok(
      SES_ACCOUNT,
      `${sesTarget(region, endpoint)}: max ${account.maxSendRate} recipients/s, ${account.sentLast24Hours}/${quota} sent in 24 h`,
    ),
  ];
  if (!account.sendingEnabled) {
    results.push(
      fail(
        'ses.sending',
        'sending is DISABLED for the account: the workers hold the queue until it is enabled',
        'read the reason in the SES console (Reputation / Account dashboard); once fixed: aws sesv2 put-account-sending-attributes --sending-enabled',
      ),
    );
  }
  if (!account.productionAccess) {
    results.push(
      warn(
        'ses.sandbox',
        'the account is in the SES sandbox: 200 recipients a day, 1 a second, verified recipients only',
        'request production access: SES console → Account dashboard → Request production access (or aws sesv2 put-account-details)',
      ),
    );
  }
  if (account.enforcementStatus !== 'HEALTHY') {
    results.push(
      warn(
        'ses.enforcement',
        `enforcement status is ${account.enforcementStatus}: SES may pause sending`,
        'see the SES reputation dashboard; keep bounces under 5% and complaints under 0.1%',
      ),
    );
  }
  return results;
}

/**
 * A warning while SES_ENDPOINT is set: the gateway then sends through whatever answers there (an
 * emulator, a proxy), and every other SES result in the report is that server's, not AWS's.
 */
export function endpointWarning(region: string, endpoint: string | undefined): CheckResult[] {
  if (!endpoint) return [];
  return [
    warn(
      'ses.endpoint',
      `SES_ENDPOINT is set: SES calls go to ${endpoint}, not to AWS SES in ${region}`,
      'unset SES_ENDPOINT unless this deployment is meant to use a local SES emulator or a proxy',
    ),
  ];
}

/**
 * How SES calls leave the host while an egress proxy is configured: through which one (host:port,
 * never its credentials), or directly and why. Empty without a proxy.
 */
export function egressNote(config: Config): string {
  const { AWS_REGION: region, SES_ENDPOINT: endpoint } = config;
  const partition = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  const target = new URL(endpoint ?? `https://email.${region}.${partition}`);
  const httpsProxy = config.HTTPS_PROXY ?? config.https_proxy;
  const httpProxy = config.HTTP_PROXY ?? config.http_proxy;
  if (httpsProxy === undefined && httpProxy === undefined) return '';
  const proxy = egressProxyOf(config).proxyFor(target);
  if (proxy) return ` (through the egress proxy ${proxyLabel(proxy)})`;
  const configured = target.protocol === 'https:' ? httpsProxy : httpProxy;
  return configured === undefined
    ? ` (directly: no ${target.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'} for ${target.protocol}// targets)`
    : ` (directly: NO_PROXY names ${target.host})`;
}

/** A 407 is the egress proxy's answer (SES never gives one): the fix is the proxy's credentials. */
function proxyAware(err: unknown, result: CheckResult): CheckResult {
  const facts = sesErrorFacts(err);
  const answered = facts.httpStatus === 407;
  if (!answered && !/refused the tunnel .*: 407/.test(facts.message)) return result;
  return {
    ...result,
    ...(answered ? { message: `${result.message} (HTTP 407 Proxy Authentication Required)` } : {}),
    fix: 'give the egress proxy its credentials in its URL: HTTPS_PROXY / HTTP_PROXY=http://user:password@host:port',
  };
}

export const sesAccountCheck: DoctorCheck = {
  id: SES_ACCOUNT,
  async run(ctx) {
    const { AWS_REGION: region, SES_ENDPOINT: endpoint } = ctx.config;
    const note = egressNote(ctx.config);
    const noted = ([first, ...rest]: CheckResult[]) =>
      first ? [{ ...first, message: `${first.message}${note}` }, ...rest] : [];
    try {
      return [
        ...noted(evaluateAccount(await readAccount(ctx.ses), region, endpoint)),
        ...endpointWarning(region, endpoint),
      ];
    } catch (err) {
      return [
        ...noted([proxyAware(err, explainSesFailure(err, region, endpoint))]),
        ...endpointWarning(region, endpoint),
      ];
    }
  },
};
