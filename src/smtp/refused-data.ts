// DATA that cannot start, and what the client sent behind it. Two things smtp-server does not do:
// - With MAIL taken but every RCPT refused, DATA gets "554 5.5.1 No valid recipients" (RFC 5321
//   §3.3, as Postfix answers) rather than smtp-server's "503 Error: need RCPT command", which tells a
//   client that did send RCPT commands that it forgot them. DATA outside a transaction keeps its 503.
// - A client that sends its message without waiting for the reply to DATA (RFC 2920 §3.1 forbids
//   it; scripts that write a whole session at once do it) has its message lines read as commands
//   once DATA is refused: a body holding "RCPT TO:" and "DATA" lines would add recipients and send
//   mail that nobody submitted (SMTP smuggling). Input that was already waiting when DATA was
//   refused (dispatched in the same event-loop turn) cannot have been sent after the reply, so it is
//   not run: the session gets 554 5.5.0 and is closed.
// Like bare-envelope-address.ts, this reaches into smtp-server's connections: each new one passes
// through the server's `connections` set, and its command dispatch is wrapped there.
import type { SMTPServer } from 'smtp-server';
import type { Logger } from '../shared/logger.js';
import { plainIp } from './policy.js';

/** What this relies on in smtp-server 3.21's SMTPConnection (dist/esm/smtp-connection.js). */
interface Connection {
  id: string;
  remoteAddress: string;
  session: { envelope?: { mailFrom: unknown; rcptTo: unknown[] } };
  /** True while a STARTTLS handshake runs: input then is dropped unanswered by smtp-server. */
  _upgrading: boolean;
  /** The message stream once DATA has been answered 354. */
  _dataStream: unknown;
  send(code: number, data: string): void;
  close(): void;
  /** Dispatches one command line; a handler that calls back at once lets the next line run. */
  _onCommand(command: Buffer, callback?: () => void): void;
  handler_DATA(command: Buffer, callback: () => void): void;
}

const NO_VALID_RECIPIENTS = '5.5.1 No valid recipients';
const SYNCHRONIZATION = '5.5.0 Input sent before the reply to DATA is message content, not commands; closing';

const DATA = Buffer.from('DATA');
const SPACE = 0x20;

/** Whether the command name (its first space-separated word, as smtp-server reads it) is DATA. */
function isData(command: Buffer): boolean {
  if (command.length < DATA.length || (command.length > DATA.length && command[DATA.length] !== SPACE)) {
    return false;
  }
  // ASCII letters: clearing bit 5 upper-cases them.
  for (let i = 0; i < DATA.length; i++) if ((command[i]! & ~0x20) !== DATA[i]) return false;
  return true;
}

export function guardRefusedData(server: SMTPServer, logger: Logger): void {
  const connections = (server as unknown as { connections: Set<Connection> }).connections;
  const add = connections.add.bind(connections);
  connections.add = (connection) => {
    const handleData = connection.handler_DATA.bind(connection);
    connection.handler_DATA = (command, callback) => {
      const envelope = connection.session.envelope;
      if (envelope?.mailFrom && envelope.rcptTo.length === 0) {
        connection.send(554, NO_VALID_RECIPIENTS);
        return callback();
      }
      handleData(command, callback);
    };
    /** Set while the turn in which DATA was refused lasts. */
    let refusedThisTurn = false;
    const onCommand = connection._onCommand.bind(connection);
    connection._onCommand = (command, callback) => {
      if (refusedThisTurn) {
        logger.warn(
          { sid: connection.id, client: plainIp(connection.remoteAddress) },
          'smtp.refused.pipelining: input after DATA was sent before its reply; closing',
        );
        refusedThisTurn = false;
        connection.send(554, SYNCHRONIZATION);
        connection.close();
        return;
      }
      const upgrading = connection._upgrading;
      onCommand(command, callback);
      // The next pipelined line is dispatched only after this returns, so the flag is up in time.
      if (!upgrading && !connection._dataStream && isData(command)) {
        refusedThisTurn = true;
        setImmediate(() => (refusedThisTurn = false));
      }
    };
    return add(connection);
  };
}
