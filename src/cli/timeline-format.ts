// One line per timeline event, for `message <id>` and `send-test`. Pure, so the wording is tested
// without Redis.
import type { TraceEvent } from '../trace/trace-store.js';
import { formatTime, plural } from './output.js';

function list(addresses: string[], max = 3): string {
  const shown = addresses.slice(0, max).join(', ');
  return addresses.length > max ? `${shown} and ${addresses.length - max} more` : shown;
}

/** What happened, without the time: `sent to SES: MessageId …`. */
export function describeEvent(event: TraceEvent): string {
  switch (event.type) {
    case 'accepted':
      return (
        `accepted from ${event.clientIp}${event.user ? ` (user ${event.user})` : ''}: ` +
        `<${event.from}> to ${list(event.recipients)}, ${event.size} bytes, Message-ID <${event.messageId}>`
      );
    case 'ses-call': {
      const what = event.outcome === 'sent' ? 'sent to SES' : `SES call ${event.outcome}`;
      const id = event.sesMessageId ? `, SES MessageId ${event.sesMessageId}` : '';
      const error = event.error ? `: ${event.error}` : '';
      return `${what} (chunk ${event.chunk}, ${plural(event.recipients, 'recipient')}${id})${error}`;
    }
    case 'failed':
      return `failed: ${event.reason}`;
    case 'ses-event':
      return (
        `SES ${event.event}${event.detail ? ` (${event.detail})` : ''}` +
        (event.recipients.length > 0 ? ` for ${list(event.recipients)}` : '')
      );
  }
}

export function formatEvent(event: TraceEvent): string {
  return `${formatTime(event.at)}  ${describeEvent(event)}`;
}
