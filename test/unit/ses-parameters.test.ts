import { describe, expect, it } from 'vitest';
import type { SmtpUser } from '../../src/auth/index.js';
import { uniqueRecipients } from '../../src/mail/recipients.js';
import { MAX_EMAIL_TAGS, mergeTags } from '../../src/mail/tags.js';
import { sesParameters } from '../../src/smtp/ses-parameters.js';

const tag = (Name: string, Value: string) => ({ Name, Value });

function user(fields: Partial<SmtpUser>): SmtpUser {
  return { username: 'crm', tags: [], allowedSenders: [], ...fields };
}

describe('EmailTags', () => {
  it('keeps the last value of a repeated name, in the place the name first had', () => {
    expect(mergeTags([[tag('app', 'erp'), tag('team', 'a'), tag('app', 'crm')]]).tags).toEqual([
      tag('app', 'crm'),
      tag('team', 'a'),
    ]);
  });

  it("puts the gateway's own tags over any of the same name, and cuts the rest at SES's limit", () => {
    const many = Array.from({ length: 60 }, (_, i) => tag(`t${i}`, 'v'));
    const merged = mergeTags([[tag('smtp-user', 'evil'), ...many]], [tag('smtp-user', 'crm')]);
    expect(merged.tags).toHaveLength(MAX_EMAIL_TAGS);
    expect(merged.tags[0]).toEqual(tag('smtp-user', 'crm'));
    expect(merged.tags.filter((t) => t.Name === 'smtp-user')).toHaveLength(1);
    expect(merged.dropped).toEqual(many.slice(MAX_EMAIL_TAGS - 1).map((t) => t.Name));
  });
});

describe('configuration set and tags of a message', () => {
  const fromHeaders = { configurationSet: 'no-events', tags: [tag('app', 'header'), tag('smtp-user', 'x')] };

  it("keeps the user's configuration set over the header's and says so", () => {
    const ses = sesParameters(
      fromHeaders,
      user({ configurationSet: 'crm-set', tags: [tag('app', 'crm')] }),
      'default',
    );
    expect(ses.configurationSet).toBe('crm-set');
    expect(ses.overriddenSet).toBe('no-events');
    expect(ses.tags).toEqual([tag('smtp-user', 'crm'), tag('app', 'header')]);
  });

  it('honours the header when the user names no set, and the default when nobody does', () => {
    expect(sesParameters(fromHeaders, user({}), 'default')).toMatchObject({
      configurationSet: 'no-events',
      overriddenSet: undefined,
    });
    expect(sesParameters({ configurationSet: undefined, tags: [] }, undefined, 'default')).toMatchObject({
      configurationSet: 'default',
      tags: [],
    });
    expect(sesParameters(fromHeaders, user({ configurationSet: 'no-events' }), undefined).overriddenSet).toBe(
      undefined,
    );
  });
});

describe('envelope recipients', () => {
  it('sends to an address once, whatever the case of its domain, but keeps local parts apart', () => {
    expect(
      uniqueRecipients(['x@xn--bcher-kva.de', 'x@XN--BCHER-KVA.de', 'X@xn--bcher-kva.de', 'y@example.net']),
    ).toEqual(['x@xn--bcher-kva.de', 'X@xn--bcher-kva.de', 'y@example.net']);
  });
});
