// Where SNS serves a topic's signing certificate and the name that certificate is issued to, both
// derived from the region in the topic's ARN. The rules are AWS's own validator's (aws-sdk-java-v2,
// services-custom/sns-message-manager: SnsHostProvider and CertificateUrlValidator): the certificate
// URL's host is the region's SNS endpoint, and the name depends on the region. The ARN has already
// matched SNS_TOPIC_ARNS when this runs, so a sender cannot pick the region to suit a certificate.
// Pure, so the table is tested on its own.

export type SnsPartition = 'aws' | 'aws-cn' | 'aws-us-gov';

export interface SnsTopicRegion {
  partition: SnsPartition;
  region: string;
}

export type TopicRegionCheck = ({ ok: true } & SnsTopicRegion) | { ok: false; reason: string };

const DNS_SUFFIX: Record<SnsPartition, string> = {
  aws: 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn',
  'aws-us-gov': 'amazonaws.com',
};

/** us-east-1, ap-southeast-5, us-gov-west-1, cn-northwest-1, … */
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

// AWS's table, as data. Commercial regions enabled by default sign as sns.amazonaws.com; the opt-in
// regions (every region launched since 2019) sign as sns-signing.<region>.amazonaws.com. AWS names no
// rule that tells an opt-in region from its name, so a region missing from both lists is accepted
// with either name (see signingCertNames).
const DEFAULT_REGIONS = new Set([
  ...['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'sa-east-1'],
  ...['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1', 'eu-north-1'],
  ...['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-southeast-1', 'ap-southeast-2'],
]);
const OPT_IN_REGIONS = new Set([
  ...['af-south-1', 'ap-east-1', 'ap-east-2', 'ap-south-2', 'ap-southeast-3', 'ap-southeast-4'],
  ...['ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7', 'ca-west-1', 'eu-central-2', 'eu-south-1'],
  ...['eu-south-2', 'il-central-1', 'me-central-1', 'me-south-1', 'mx-central-1'],
]);
/** Both GovCloud regions sign with the certificate named after us-gov-west-1. */
const GOV_REGIONS = new Set(['us-gov-west-1', 'us-gov-east-1']);
const GOV_NAME = 'sns-us-gov-west-1.amazonaws.com';
/** China regions sign as sns-<region>.amazonaws.com.cn. */
const CHINA_REGIONS = new Set(['cn-north-1', 'cn-northwest-1']);

/**
 * The partition and region of arn:<partition>:sns:<region>:<account>:<name>. Only the partitions
 * SES and this gateway run in are known; their regions must agree with them (cn- is aws-cn, us-gov-
 * is aws-us-gov), as every genuine ARN does.
 */
export function snsTopicRegion(topicArn: string): TopicRegionCheck {
  const [arn, partition = '', service, region = ''] = topicArn.split(':');
  if (arn !== 'arn' || service !== 'sns' || !REGION.test(region)) {
    return { ok: false, reason: `topic ${topicArn} is not an SNS topic ARN with a region` };
  }
  if (!Object.hasOwn(DNS_SUFFIX, partition)) {
    return { ok: false, reason: `topic ${topicArn} is in partition ${partition}, which is not supported` };
  }
  if (partition !== partitionOf(region)) {
    return { ok: false, reason: `topic ${topicArn}: region ${region} is not in partition ${partition}` };
  }
  return { ok: true, partition: partitionOf(region), region };
}

function partitionOf(region: string): SnsPartition {
  if (region.startsWith('cn-')) return 'aws-cn';
  return region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

/** The SNS endpoint of the topic's region: the only host its certificate and SubscribeURL come from. */
export function snsRegionalHost(topic: SnsTopicRegion): string {
  return `sns.${topic.region}.${DNS_SUFFIX[topic.partition]}`;
}

/**
 * The names a genuine signing certificate for the topic's region is issued to; usually one. For a
 * region AWS's table does not list yet, both the name AWS's validator falls back to (sns.<partition
 * DNS suffix>) and the name the partition's newer regions use are accepted: refusing a genuine
 * message loses it, as SNS does not retry a 4xx, and both names belong to AWS.
 */
export function signingCertNames(topic: SnsTopicRegion): readonly string[] {
  const { region } = topic;
  switch (topic.partition) {
    case 'aws':
      if (DEFAULT_REGIONS.has(region)) return ['sns.amazonaws.com'];
      if (OPT_IN_REGIONS.has(region)) return [`sns-signing.${region}.amazonaws.com`];
      return [`sns-signing.${region}.amazonaws.com`, 'sns.amazonaws.com'];
    case 'aws-us-gov':
      return GOV_REGIONS.has(region) ? [GOV_NAME] : [GOV_NAME, 'sns.amazonaws.com'];
    case 'aws-cn': {
      const name = `sns-${region}.amazonaws.com.cn`;
      return CHINA_REGIONS.has(region) ? [name] : [name, 'sns.amazonaws.com.cn'];
    }
  }
}
