// AUTH on a clear connection of the plain port, when AUTH needs TLS. The listener keeps AUTH out of
// EHLO until STARTTLS by disabling the command for the session, and smtp-server answers a disabled
// command with "500 Error: command not recognized"; RFC 3207 §4 asks for "530 5.7.0 Must issue a
// STARTTLS command first". smtp-server has no per-command hook (onAuth comes only after the SASL
// exchange, when a LOGIN client has already been asked for its password in clear), so this reaches
// into its connections (as bare-envelope-address.ts does): each new one passes through the server's
// `connections` set, and that one reply of its `send` is swapped. smtp-server's own checks (a command sent during
// the TLS upgrade, before the greeting, …) still run first; the swapped reply still counts towards
// smtp-server's limit of unrecognised commands.
import type { SMTPServer } from 'smtp-server';
import { ERROR_CATALOG } from '../shared/errors.js';

/** What this relies on in smtp-server 3.21's SMTPConnection (dist/esm/smtp-connection.js). */
interface Connection {
  secure: boolean;
  /** `context` is the command name the reply answers. */
  send(code: number, data: string | string[], context?: string): void;
}

/** smtp-server's reply to a command the session does not offer. */
const UNRECOGNIZED_CODE = 500;
const UNRECOGNIZED_TEXT = 'Error: command not recognized';

export function answerAuthBeforeStartTls(server: SMTPServer): void {
  const reply = ERROR_CATALOG.SMTP_TLS_REQUIRED.smtp;
  const text = `${reply.enhanced} Must issue a STARTTLS command first`;
  const connections = (server as unknown as { connections: Set<Connection> }).connections;
  const add = connections.add.bind(connections);
  connections.add = (connection) => {
    const send = connection.send.bind(connection);
    connection.send = (code, data, context) => {
      const authInClear =
        code === UNRECOGNIZED_CODE && data === UNRECOGNIZED_TEXT && context === 'AUTH' && !connection.secure;
      send(authInClear ? reply.code : code, authInClear ? text : data, context);
    };
    return add(connection);
  };
}
