// Envelope address checks for an SES-bound relay: SES has no SMTPUTF8, so a local part must be
// ASCII; an internationalised domain is converted to its punycode (A-label) form.
import { asciiDomain as toAsciiDomain } from '../shared/ascii-domain.js';

export type AddressCheck =
  { ok: true; address: string } | { ok: false; reason: 'non-ascii-local-part' | 'invalid' };

// eslint-disable-next-line no-control-regex
const ASCII = /^[\x00-\x7f]*$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

export function checkEnvelopeAddress(address: string): AddressCheck {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1 || CONTROL.test(address)) return { ok: false, reason: 'invalid' };
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (!ASCII.test(local)) return { ok: false, reason: 'non-ascii-local-part' };
  const asciiDomain = toAsciiDomain(domain);
  if (asciiDomain === '' || !/^[a-z0-9.-]+$|^\[[0-9a-f.:]+\]$/i.test(asciiDomain)) {
    return { ok: false, reason: 'invalid' };
  }
  return { ok: true, address: `${local}@${asciiDomain}` };
}
