// SES takes at most 50 recipients per message (To + Cc + Bcc, not adjustable). Larger envelopes go
// out as several calls; chunk boundaries are fixed by recipient order so a retry sees the same chunks.

export const SES_MAX_RECIPIENTS_PER_CALL = 50;

export function chunkRecipients(
  recipients: readonly string[],
  size = SES_MAX_RECIPIENTS_PER_CALL,
): string[][] {
  const chunks: string[][] = [];
  for (let i = 0; i < recipients.length; i += size) chunks.push(recipients.slice(i, i + size));
  return chunks;
}
