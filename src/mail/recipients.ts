// The envelope recipients a message is sent to, each once. smtp-server drops a repeated RCPT by
// the address as the client wrote it, before the gateway converts an IDN domain to punycode, so
// `x@bücher.de` and `x@xn--bcher-kva.de` both arrive; SES would get (and count) the same address
// twice. Domains compare without case; local parts are compared exactly (RFC 5321 §2.4 leaves
// their case to the receiving host).

function recipientKey(address: string): string {
  const at = address.lastIndexOf('@');
  return at === -1 ? address : `${address.slice(0, at)}@${address.slice(at + 1).toLowerCase()}`;
}

/** The addresses in their first-seen order, without repeats. */
export function uniqueRecipients(addresses: readonly string[]): string[] {
  const seen = new Set<string>();
  return addresses.filter((address) => {
    const key = recipientKey(address);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
