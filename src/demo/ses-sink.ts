// The demo's local SES sink (aws-ses-v2-local): it captures what the gateway hands to "SES" and lists
// it on a web page. It also answers GetAccount with a demo account, so the demo paces from the
// account's MaxSendRate as it would against real SES. The package resolves its start promise even
// when it could not listen (it ignores the listen error), so that is checked here: a second demo
// would otherwise send its mail to the first demo's sink.
import net from 'node:net';
import sesSinkModule from 'aws-ses-v2-local';

// The package is CommonJS with an ES-style default export; Node hands ESM importers the whole module.
const sesSink = sesSinkModule.default;

export const SINK_HOST = '127.0.0.1';

/** The demo account's send rate: the demo paces at this times SES_RATE_FACTOR (or SES_MAX_SEND_RATE). */
export const DEMO_MAX_SEND_RATE = 50;

/** What the sink answers to GetAccount: a production account in good standing. */
export const DEMO_ACCOUNT = {
  DedicatedIpAutoWarmupEnabled: false,
  Details: {
    AdditionalContactEmailAddresses: [],
    ContactLanguage: 'EN',
    MailType: 'TRANSACTIONAL',
    ReviewDetails: { CaseId: 'ses-relay-demo', Status: 'GRANTED' },
    UseCaseDescription: 'ses-relay demo (local SES sink)',
    WebsiteURL: 'https://example.com',
  },
  EnforcementStatus: 'HEALTHY',
  ProductionAccessEnabled: true,
  SendingEnabled: true,
  SendQuota: { Max24HourSend: 50_000, MaxSendRate: DEMO_MAX_SEND_RATE, SentLast24Hours: 0 },
  SuppressionAttributes: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
};

export interface SesSink {
  /** Base URL, without a trailing slash. */
  url: string;
}

/** Why the port cannot be bound, found by trying to bind it (the sink keeps the error to itself). */
async function bindError(port: number): Promise<NodeJS.ErrnoException | undefined> {
  const probe = net.createServer();
  return new Promise((resolve) => {
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    probe.listen(port, SINK_HOST, () => probe.close(() => resolve(undefined)));
  });
}

/**
 * Starts the sink on `port` and resolves once it listens there. `account`: the JSON the sink answers
 * GetAccount with; the package reads it from AWS_SES_ACCOUNT at each request, so it is put there.
 * Throws, naming DEMO_SES_SINK_PORT, when the port cannot be bound.
 */
export async function startSesSink(port: number, account: string): Promise<SesSink> {
  process.env.AWS_SES_ACCOUNT = account;
  const server = await sesSink({ host: SINK_HOST, port });
  const address = server.address();
  if (!server.listening || address === null || typeof address === 'string') {
    server.close();
    const err = await bindError(port);
    if (err?.code === 'EADDRINUSE')
      throw new Error(
        `DEMO_SES_SINK_PORT ${port} is in use (another demo's SES sink?): the demo's mail would go to ` +
          'whatever listens there. Stop it, or set DEMO_SES_SINK_PORT to a free port.',
      );
    throw new Error(
      `DEMO_SES_SINK_PORT ${port}: the SES sink cannot listen on ${SINK_HOST}:${port} (${err?.code ?? 'unknown error'}).`,
    );
  }
  return { url: `http://${SINK_HOST}:${address.port}` };
}
