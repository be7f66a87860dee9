// A `ses-relay` program with only the operator commands, for tests that run the CLI as a real process
// before (and independently of) src/cli/main.ts registering them.
import { Command } from 'commander';
import { registerOperatorCommands, withUsageExitCodes } from '../../src/cli/operator-commands.js';

const program = withUsageExitCodes(new Command('ses-relay'));
registerOperatorCommands(program);
await program.parseAsync(process.argv);
