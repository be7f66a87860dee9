import { describe, expect, it } from 'vitest';
import {
  signingCertNames,
  snsRegionalHost,
  snsTopicRegion,
  type SnsTopicRegion,
} from '../../src/webhook/sns-signing-names.js';

function topic(region: string, partition = 'aws'): SnsTopicRegion {
  const check = snsTopicRegion(`arn:${partition}:sns:${region}:123456789012:ses-feedback`);
  if (!check.ok) throw new Error(check.reason);
  return check;
}

describe('the name of the SNS signing certificate per region', () => {
  // The cases of AWS's own test, aws-sdk-java-v2 SnsHostProviderTest (aws, aws-cn, aws-us-gov only).
  it.each([
    ['us-gov-west-1', 'aws-us-gov', 'sns-us-gov-west-1.amazonaws.com'],
    ['us-gov-east-1', 'aws-us-gov', 'sns-us-gov-west-1.amazonaws.com'],
    ['cn-north-1', 'aws-cn', 'sns-cn-north-1.amazonaws.com.cn'],
    ['cn-northwest-1', 'aws-cn', 'sns-cn-northwest-1.amazonaws.com.cn'],
    ['me-south-1', 'aws', 'sns-signing.me-south-1.amazonaws.com'],
    ['ap-east-1', 'aws', 'sns-signing.ap-east-1.amazonaws.com'],
    ['ap-east-2', 'aws', 'sns-signing.ap-east-2.amazonaws.com'],
    ['ap-southeast-5', 'aws', 'sns-signing.ap-southeast-5.amazonaws.com'],
    ['ap-southeast-6', 'aws', 'sns-signing.ap-southeast-6.amazonaws.com'],
    ['ap-southeast-7', 'aws', 'sns-signing.ap-southeast-7.amazonaws.com'],
    ['mx-central-1', 'aws', 'sns-signing.mx-central-1.amazonaws.com'],
    ['us-east-1', 'aws', 'sns.amazonaws.com'],
    ['us-west-1', 'aws', 'sns.amazonaws.com'],
  ])('%s (%s): %s, as AWS names it', (region, partition, name) => {
    expect(signingCertNames(topic(region, partition))).toEqual([name]);
  });

  it.each([
    'af-south-1',
    'ap-south-2',
    'ap-southeast-3',
    'ap-southeast-4',
    'ca-west-1',
    'eu-central-2',
    'eu-south-1',
    'eu-south-2',
    'il-central-1',
    'me-central-1',
  ])('opt-in region %s: sns-signing.<region>.amazonaws.com', (region) => {
    expect(signingCertNames(topic(region))).toEqual([`sns-signing.${region}.amazonaws.com`]);
  });

  it.each([
    'us-east-2',
    'us-west-2',
    'ca-central-1',
    'sa-east-1',
    'eu-west-1',
    'eu-central-1',
    'ap-northeast-3',
  ])('region enabled by default %s: sns.amazonaws.com', (region) => {
    expect(signingCertNames(topic(region))).toEqual(['sns.amazonaws.com']);
  });

  it("accepts both AWS's fallback name and the partition's newer name for a region not yet in the table", () => {
    expect(signingCertNames(topic('eu-west-9'))).toEqual([
      'sns-signing.eu-west-9.amazonaws.com',
      'sns.amazonaws.com',
    ]);
    expect(signingCertNames(topic('us-gov-north-1', 'aws-us-gov'))).toEqual([
      'sns-us-gov-west-1.amazonaws.com',
      'sns.amazonaws.com',
    ]);
    expect(signingCertNames(topic('cn-northwest-9', 'aws-cn'))).toEqual([
      'sns-cn-northwest-9.amazonaws.com.cn',
      'sns.amazonaws.com.cn',
    ]);
  });
});

describe('the region of a topic ARN', () => {
  it('reads the partition and region, and gives the SNS endpoint of the region', () => {
    expect(snsTopicRegion('arn:aws:sns:af-south-1:123456789012:t')).toEqual({
      ok: true,
      partition: 'aws',
      region: 'af-south-1',
    });
    expect(snsRegionalHost(topic('eu-west-1'))).toBe('sns.eu-west-1.amazonaws.com');
    expect(snsRegionalHost(topic('us-gov-east-1', 'aws-us-gov'))).toBe('sns.us-gov-east-1.amazonaws.com');
    expect(snsRegionalHost(topic('cn-north-1', 'aws-cn'))).toBe('sns.cn-north-1.amazonaws.com.cn');
  });

  it.each([
    ['not an ARN', 'ses-feedback', /not an SNS topic ARN/],
    ['another service', 'arn:aws:sqs:us-east-1:123456789012:q', /not an SNS topic ARN/],
    ['no region', 'arn:aws:sns::123456789012:t', /not an SNS topic ARN/],
    ['a partition not served', 'arn:aws-iso:sns:us-iso-east-1:123456789012:t', /partition aws-iso/],
    ['a China region outside aws-cn', 'arn:aws:sns:cn-north-1:123456789012:t', /not in partition aws$/],
    ['a commercial region in aws-cn', 'arn:aws-cn:sns:us-east-1:123456789012:t', /not in partition aws-cn/],
    ['a GovCloud region outside aws-us-gov', 'arn:aws:sns:us-gov-west-1:123456789012:t', /not in partition/],
  ])('refuses %s', (_what, arn, reason) => {
    const check = snsTopicRegion(arn);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(reason);
  });
});
