// The EmailTags a message is sent with, merged from the users file, the X-SES-MESSAGE-TAGS header
// and the gateway's own tags. Later lists win for a name (SES takes a name once); the gateway's
// own tags (smtp-user) are applied last so that no header can replace them; and the list is cut
// at what SES accepts, the gateway's own tags kept.

export interface EmailTag {
  Name: string;
  Value: string;
}

/**
 * Tags one SendEmail call takes. The SES pages on MessageTag, event publishing and quotas give each
 * tag's syntax but no count; 50, AWS's usual limit on tags per resource, is assumed.
 */
export const MAX_EMAIL_TAGS = 50;

export interface MergedTags {
  tags: EmailTag[];
  /** Names left out to stay within MAX_EMAIL_TAGS. */
  dropped: string[];
}

/**
 * Merges `lists` (a later value replaces an earlier one of the same name, keeping the first
 * position), then puts `owned` first, over any tag of the same name, and cuts the rest to fit.
 */
export function mergeTags(lists: EmailTag[][], owned: EmailTag[] = []): MergedTags {
  const byName = new Map<string, EmailTag>();
  for (const list of lists) for (const tag of list) byName.set(tag.Name, tag);
  for (const tag of owned) byName.delete(tag.Name);
  const ownedNames = new Map(owned.map((tag) => [tag.Name, tag]));
  const others = [...byName.values()];
  const room = Math.max(0, MAX_EMAIL_TAGS - ownedNames.size);
  return {
    tags: [...ownedNames.values(), ...others.slice(0, room)],
    dropped: others.slice(room).map((tag) => tag.Name),
  };
}
