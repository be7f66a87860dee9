#!/usr/bin/env node
// The `ses-relay` command: `start` runs the gateway with the roles named in ROLES; the operator
// commands manage suppressions, the queue and messages, audit the SES set-up and send test mail.
// Commands load their code when they run, so `--help` and small commands start fast.
import { Command } from 'commander';
import { registerUserCommands } from '../auth/index.js';
import { registerOperatorCommands, withUsageExitCodes } from './operator-commands.js';
import { packageVersion } from './version.js';

const program = withUsageExitCodes(new Command());
program
  .name('ses-relay')
  .description('SMTP relay gateway delivering through the Amazon SES v2 API')
  .version(packageVersion())
  .showHelpAfterError();

program
  .command('start')
  .description('run the gateway (roles from ROLES: smtp, worker, http; all by default)')
  .action(async () => {
    const { loadConfigOrExit, runGateway } = await import('../main.js');
    const { config, unknown } = loadConfigOrExit();
    await runGateway(config, {}, unknown);
  });

registerOperatorCommands(program);
registerUserCommands(program);

await program.parseAsync(process.argv);
