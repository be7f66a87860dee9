// A no-op smtp-server (reads and discards DATA) with the gateway's listener options, to show the
// ceiling of the SMTP library itself on this machine next to the gateway's figures.
import { SMTPServer } from 'smtp-server';

const port = Number(process.argv[2] ?? 2626);
const server = new SMTPServer({
  hideSMTPUTF8: true,
  hideSTARTTLS: true,
  disabledCommands: ['AUTH', 'STARTTLS'],
  authOptional: true,
  disableReverseLookup: true,
  logger: false,
  size: 10 * 1024 * 1024,
  onData(stream, _session, callback) {
    stream.on('data', () => undefined);
    stream.on('end', () => callback(null, 'Ok'));
  },
});
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
