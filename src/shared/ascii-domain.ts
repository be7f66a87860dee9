// A domain as SES and every comparison in the gateway take it: lower case, an internationalised name
// in its punycode (A-label) form. Pure.
import { domainToASCII } from 'node:url';

// eslint-disable-next-line no-control-regex
const ASCII = /^[\x00-\x7f]*$/;

/** The domain's ASCII form, or '' for a name that cannot be converted. */
export function asciiDomain(domain: string): string {
  return ASCII.test(domain) ? domain.toLowerCase() : domainToASCII(domain);
}
