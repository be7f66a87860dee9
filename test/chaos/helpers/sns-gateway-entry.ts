// `ses-relay start`, exactly as src/cli/main.ts runs it, except for one injected dependency: the SNS
// verifier reads the test's signing certificate from CHAOS_SNS_CERT_FILE instead of fetching it from
// https://sns.<region>.amazonaws.com, so notifications signed by the test verify for real.
import fs from 'node:fs';
import { loadConfigOrExit, runGateway } from '../../../src/main.js';

const certPem = fs.readFileSync(process.env.CHAOS_SNS_CERT_FILE ?? '', 'utf8');
const certUrl = process.env.CHAOS_SNS_CERT_URL ?? '';

const { config, unknown } = loadConfigOrExit();
await runGateway(
  config,
  {
    fetchSnsCertificate: (url) =>
      url.href === certUrl
        ? Promise.resolve(certPem)
        : Promise.reject(new Error(`no certificate at ${url.href}`)),
  },
  unknown,
);
