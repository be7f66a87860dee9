// The region an SQS queue lives in, read from its URL. The feedback queue need not be in the SES
// region (AWS_REGION), and a request signed for another region is refused; the SDK also sends to the
// queue URL's host whatever region the client has, so the URL is what decides.

/**
 * sqs.<region>.amazonaws.com[.cn] (also sqs-fips., and an interface endpoint's
 * vpce-….sqs.<region>.vpce.amazonaws.com) and the legacy <region>.queue.amazonaws.com[.cn].
 */
const QUEUE_HOST = /^(?:[a-z0-9-]+\.)?sqs(?:-fips)?\.([a-z0-9-]+)\.(?:vpce\.)?amazonaws\.com(?:\.cn)?$/;
const LEGACY_QUEUE_HOST = /^([a-z0-9-]+)\.queue\.amazonaws\.com(?:\.cn)?$/;
/** The legacy host without a region is us-east-1's. */
const LEGACY_US_EAST_1 = 'queue.amazonaws.com';
/** us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ap-southeast-5, … */
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

/** The region the queue URL names, else `fallback` (AWS_REGION; a local endpoint names none). */
export function sqsRegionOf(queueUrl: string, fallback: string): string {
  let host: string;
  try {
    host = new URL(queueUrl).hostname.toLowerCase();
  } catch {
    return fallback;
  }
  if (host === LEGACY_US_EAST_1) return 'us-east-1';
  const region = (QUEUE_HOST.exec(host) ?? LEGACY_QUEUE_HOST.exec(host))?.[1];
  return region && REGION.test(region) ? region : fallback;
}
