#!/usr/bin/env node
// The `ses-relay` command. `start` runs the gateway with the roles named in ROLES.
import { Command } from 'commander';
import { loadConfigOrExit, runGateway } from '../main.js';

const program = new Command();
program.name('ses-relay').description('SMTP relay gateway delivering through the Amazon SES v2 API');

program
  .command('start')
  .description('run the gateway (roles from ROLES: smtp, worker, http; all by default)')
  .action(async () => {
    await runGateway(loadConfigOrExit());
  });

await program.parseAsync(process.argv);
