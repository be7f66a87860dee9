// Envelope addresses without angle brackets (`MAIL FROM:app@example.com`, `RCPT TO: user@example.net
// SIZE=123`), as printers, device firmware and old PHP mailers send them. RFC 5321 asks for the
// brackets and smtp-server answers a permanent "501 Error: Bad sender address syntax", so such a
// client drops its mail; Postfix (strict_rfc821_envelopes=no, its default), Exim and Sendmail take the
// form. Here, before smtp-server parses MAIL FROM or RCPT TO, an argument that is one plausible bare
// address (one @, no spaces, brackets or quotes), optionally followed by ESMTP parameters, gets its
// brackets; everything else (`<>`, the bracketed form, lists, anything odd) reaches smtp-server as
// sent. The gateway's own checks (RFC 5321 syntax, policy, parameters) then see the bracketed address.
// Like auth-before-starttls.ts, this reaches into smtp-server's connections: each new one passes
// through the server's `connections` set, and its address parser is wrapped there.
import type { SMTPServer } from 'smtp-server';

/** What this relies on in smtp-server 3.21's SMTPConnection (dist/esm/smtp-connection.js). */
interface Connection {
  /** `name` is 'mail from' or 'rcpt to'; `command` the whole command line (a string or Buffer). */
  _parseAddressCommand(name: string, command: unknown): unknown;
}

/**
 * `MAIL FROM:` / `RCPT TO:` (any spacing around the colon, as smtp-server allows), one bare address,
 * then whole ESMTP parameters (`KEYWORD` or `KEYWORD=value`). The local part is a dot-atom's
 * characters (non-ASCII too, so the gateway can give its own 553 5.6.7); the domain a name or an
 * address literal. No `<`, `>`, `"`, `,`, `:`, `;`, whitespace or second `@` in the address.
 */
const BARE_ADDRESS =
  /^((?:MAIL[ \t]+FROM|RCPT[ \t]+TO)[ \t]*:)[ \t]*([A-Za-z0-9!#$%&'*+/=?^_`{|}~.\u0080-\uffff-]+@(?:[^\s<>@"(),:;[\]\\]+|\[[^\s<>@"[\]\\]+\]))((?:[ \t]+[A-Za-z0-9][A-Za-z0-9-]*(?:=[^\s=]*)?)*)[ \t]*$/i;

/** The command with its bare address put in angle brackets, or undefined to leave it as it is. */
export function bracketBareAddress(command: string): string | undefined {
  const match = BARE_ADDRESS.exec(command);
  if (!match) return undefined;
  const [, verb, address, parameters] = match;
  return `${verb}<${address}>${parameters}`;
}

export function acceptBareEnvelopeAddresses(server: SMTPServer): void {
  const connections = (server as unknown as { connections: Set<Connection> }).connections;
  const add = connections.add.bind(connections);
  connections.add = (connection) => {
    const parse = connection._parseAddressCommand.bind(connection);
    connection._parseAddressCommand = (name, command) => {
      const line = typeof command === 'string' ? command : Buffer.isBuffer(command) ? command.toString() : '';
      return parse(name, bracketBareAddress(line) ?? command);
    };
    return add(connection);
  };
}
