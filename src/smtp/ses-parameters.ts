// Which configuration set and EmailTags a message is sent with, from the users file, the message's
// X-SES-* headers and SES_CONFIGURATION_SET. The operator's binding wins: a user's configuration
// set cannot be moved by a header (the client could otherwise send where no event destination
// records its bounces), and the gateway's own smtp-user tag cannot be replaced. Without such a
// binding the headers are honoured, as SES SMTP honoured them for the apps that now send here.
import type { SmtpUser } from '../auth/index.js';
import { mergeTags, type EmailTag } from '../mail/tags.js';

export interface SesParameters {
  configurationSet: string | undefined;
  tags: EmailTag[];
  /** A header's configuration set that the user's replaced. */
  overriddenSet: string | undefined;
  /** Tag names left out to stay within SES's limit. */
  droppedTags: string[];
}

/** SES tag values allow ASCII letters, digits, '_' and '-'. */
function userTag(username: string): EmailTag {
  return { Name: 'smtp-user', Value: username.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256) || '_' };
}

export function sesParameters(
  fromHeaders: { configurationSet: string | undefined; tags: EmailTag[] },
  user: SmtpUser | undefined,
  defaultConfigurationSet: string | undefined,
): SesParameters {
  const userSet = user?.configurationSet;
  const headerSet = fromHeaders.configurationSet;
  // Tags from the headers win over the user's defaults of the same name; smtp-user over both.
  const merged = mergeTags([user?.tags ?? [], fromHeaders.tags], user ? [userTag(user.username)] : []);
  return {
    configurationSet: userSet ?? headerSet ?? defaultConfigurationSet,
    overriddenSet:
      userSet !== undefined && headerSet !== undefined && headerSet !== userSet ? headerSet : undefined,
    tags: merged.tags,
    droppedTags: merged.dropped,
  };
}
