// The README's IAM policy and permission notes against the AWS calls the code makes: every SES and
// SQS command imported anywhere in src/ is named, and the gateway's own (outside the CLI and doctor)
// are in the policy. SES v2 SendEmail with raw content is authorised as ses:SendRawEmail.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const readme = fs.readFileSync('README.md', 'utf8');
const SERVICES = { 'client-sesv2': 'ses', 'client-sqs': 'sqs' } as const;

/** IAM action names for the AWS SDK commands a file imports, e.g. ses:GetAccount. */
function actionsImported(text: string): string[] {
  const actions: string[] = [];
  for (const match of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/(client-sesv2|client-sqs)'/g)) {
    const service = SERVICES[match[2] as keyof typeof SERVICES];
    for (const item of match[1]!.split(',').map((name) => name.trim())) {
      const command = /^(\w+)Command$/.exec(item)?.[1];
      if (command) actions.push(`${service}:${command}`);
    }
  }
  return actions;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

const calls = sourceFiles('src').flatMap((file) =>
  actionsImported(fs.readFileSync(file, 'utf8')).map((action) => ({ file, action })),
);
/** The gateway's own calls: what its role needs (the CLI and doctor are run by operators). */
const gatewayActions = new Set(
  calls.filter(({ file }) => !/^src\/(cli|doctor)\//.test(file)).map(({ action }) => action),
);

const section = (() => {
  const start = readme.indexOf('### AWS permissions');
  expect(start).toBeGreaterThan(0);
  return readme.slice(start, readme.indexOf('\n## ', start));
})();

const policy = (() => {
  const json = /```json\n([\s\S]*?)```/.exec(section)?.[1];
  expect(json).toBeDefined();
  return JSON.parse(json!) as { Statement: { Action: string | string[] }[] };
})();
const policyActions = new Set(policy.Statement.flatMap((statement) => [statement.Action].flat()));

describe('README, AWS permissions', () => {
  it('finds the AWS calls the code makes', () => {
    expect(gatewayActions).toContain('ses:SendEmail');
    expect(gatewayActions).toContain('sqs:ReceiveMessage');
  });

  it("gives the gateway's role every action it calls, SendEmail (raw) as ses:SendRawEmail too", () => {
    for (const action of gatewayActions) expect(policyActions, action).toContain(action);
    expect(policyActions).toContain('ses:SendRawEmail');
  });

  it('names every SES and SQS action that doctor and the CLI call', () => {
    for (const { file, action } of calls) expect(section, `${action} (${file})`).toContain(`\`${action}\``);
  });

  it("names ses:SendRawEmail in the Kubernetes ServiceAccount's role comment", () => {
    const account = fs.readFileSync('docker/k8s/serviceaccount.yaml', 'utf8');
    expect(account).toContain('ses:SendRawEmail');
    expect(account).toContain('ses:GetAccount');
  });
});
