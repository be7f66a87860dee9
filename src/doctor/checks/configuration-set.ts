// SES_CONFIGURATION_SET must exist (SES refuses every send naming a missing one), and its event
// destinations should publish BOUNCE and COMPLAINT to an SNS topic the webhook allows: that is how
// bounces and complaints reach the suppression list.
import {
  GetConfigurationSetCommand,
  GetConfigurationSetEventDestinationsCommand,
  type EventDestination,
} from '@aws-sdk/client-sesv2';
import { sesErrorFacts } from '../../ses/classify.js';
import { describeSdkError } from '../sdk-error.js';
import { type CheckResult, type DoctorCheck, fail, ok, skip, warn } from '../types.js';
import { SES_ACCOUNT } from './ses-account.js';

const ID = 'ses.configuration-set';
const NEEDED_EVENTS = ['BOUNCE', 'COMPLAINT'] as const;

export function evaluateEventDestinations(
  name: string,
  destinations: readonly EventDestination[],
  allowedTopics: readonly string[],
): CheckResult[] {
  const sns = destinations.filter((d) => d.Enabled !== false && d.SnsDestination?.TopicArn);
  const published = new Set(sns.flatMap((d) => d.MatchingEventTypes ?? []));
  const missing = NEEDED_EVENTS.filter((type) => !published.has(type));
  const results: CheckResult[] = [];
  if (missing.length > 0) {
    results.push(
      warn(
        ID,
        `configuration set ${name} publishes no ${missing.join(' or ')} events to SNS: they will not reach the suppression list`,
        `aws sesv2 create-configuration-set-event-destination --configuration-set-name ${name} ` +
          `--event-destination-name ses-relay --event-destination ` +
          `'Enabled=true,MatchingEventTypes=BOUNCE,COMPLAINT,DELIVERY,SnsDestination={TopicArn=<your topic ARN>}'`,
      ),
    );
  }
  const topics = [...new Set(sns.map((d) => d.SnsDestination!.TopicArn!))];
  const strangers = allowedTopics.length === 0 ? [] : topics.filter((arn) => !allowedTopics.includes(arn));
  for (const arn of strangers) {
    results.push(
      warn(
        ID,
        `configuration set ${name} publishes to ${arn}, which SNS_TOPIC_ARNS does not list: the webhook refuses its events`,
        `add ${arn} to SNS_TOPIC_ARNS`,
      ),
    );
  }
  if (results.length === 0) {
    const delivery = published.has('DELIVERY')
      ? ''
      : ' (no DELIVERY events: send-test to success@ cannot see the delivery)';
    results.push(ok(ID, `configuration set ${name}: BOUNCE and COMPLAINT go to SNS${delivery}`));
  }
  return results;
}

export const configurationSetCheck: DoctorCheck = {
  id: ID,
  needs: [SES_ACCOUNT],
  async run(ctx) {
    const name = ctx.config.SES_CONFIGURATION_SET;
    if (!name) {
      return [
        skip(
          ID,
          'SES_CONFIGURATION_SET is not set: bounces and complaints can only come through identity notifications',
        ),
      ];
    }
    try {
      await ctx.ses.send(new GetConfigurationSetCommand({ ConfigurationSetName: name }));
      const reply = await ctx.ses.send(
        new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: name }),
      );
      return evaluateEventDestinations(name, reply.EventDestinations ?? [], ctx.snsTopicArns);
    } catch (err) {
      const facts = sesErrorFacts(err);
      if (facts.name === 'NotFoundException') {
        return [
          fail(
            ID,
            `configuration set ${name} does not exist in ${ctx.config.AWS_REGION}: SES refuses every message that names it`,
            `aws sesv2 create-configuration-set --configuration-set-name ${name}, or correct SES_CONFIGURATION_SET`,
          ),
        ];
      }
      return [fail(ID, `configuration set ${name}: ${describeSdkError(err)}`)];
    }
  },
};
