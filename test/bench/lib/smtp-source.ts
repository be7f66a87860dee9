// Postfix's smtp-source as the SMTP load generator: persistent sessions (-d), one recipient per
// message, as fast as the server answers. It reports no latencies; the rate is messages over the
// wall time of the run, and the run fails if any message is refused.
import { spawn } from 'node:child_process';
import type { LoadTool } from './load-tools.js';

export interface SmtpSourceResult {
  messages: number;
  seconds: number;
  perSecond: number;
}

export async function runSmtpSource(
  tool: LoadTool,
  options: { port: number; sessions: number; messageBytes: number; messages: number },
): Promise<SmtpSourceResult> {
  const args = ['-4', '-d', '-s', String(options.sessions), '-l', String(options.messageBytes)];
  args.push('-m', String(options.messages), '-f', 'bench@example.com', '-t', 'user@example.net');
  args.push(`127.0.0.1:${options.port}`);
  const started = performance.now();
  const child = spawn(tool.path, args, {
    env: { ...process.env, ...tool.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`smtp-source exited ${code}: ${stderr.trim().slice(0, 500)}`);
  return { messages: options.messages, seconds, perSecond: options.messages / seconds };
}
