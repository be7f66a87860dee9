// What a primary with SMTP child processes renders: its own metrics combined with its children's
// (prom-client's AggregatorRegistry). The text must stay one valid family per name, and keep the
// series dashboards find processes by.
import { collectDefaultMetrics, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { METRIC_PREFIX } from '../../src/metrics/definitions.js';
import { createMetrics } from '../../src/metrics/metrics.js';

/** A child process's registry as the primary receives it: Node defaults plus the smtp group. */
async function childSnapshot(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
  const child = createMetrics();
  child.enable('smtp');
  child.messagesAccepted.inc(4);
  return child.registry.getMetricsAsJSON();
}

function families(text: string): Map<string, { help: number; type: number; samples: string[] }> {
  const out = new Map<string, { help: number; type: number; samples: string[] }>();
  const family = (name: string) => {
    const found = out.get(name) ?? { help: 0, type: 0, samples: [] };
    out.set(name, found);
    return found;
  };
  for (const line of text.split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
    if (meta) family(meta[2]!)[meta[1] === 'HELP' ? 'help' : 'type'] += 1;
    else if (line !== '')
      family(/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0].replace(/_(bucket|sum|count)$/, ''));
  }
  return out;
}

describe('metrics combined with SMTP child processes', () => {
  it("keeps the primary's process start time, which dashboards list processes by", async () => {
    const primary = createMetrics();
    primary.enable('http');
    const snapshots = [await childSnapshot(), await childSnapshot()];
    primary.addRemote(() => Promise.resolve(snapshots));
    const text = await primary.render();

    const own = new Registry();
    collectDefaultMetrics({ register: own, prefix: METRIC_PREFIX });
    const [startTime] = (await own.getSingleMetric(`${METRIC_PREFIX}process_start_time_seconds`)!.get())
      .values;
    expect(text).toMatch(new RegExp(`^ses_relay_process_start_time_seconds ${startTime!.value}$`, 'm'));
    expect(text).toMatch(/^ses_relay_messages_accepted_total 8$/m);
  });

  it('has one HELP and one TYPE per family, and every own-registry family', async () => {
    const primary = createMetrics();
    primary.enable('http');
    primary.addRemote(async () => [await childSnapshot()]);
    const combined = families(await primary.render());
    const alone = createMetrics();
    alone.enable('http');
    alone.enable('smtp');
    for (const name of families(await alone.render()).keys()) expect(combined.has(name), name).toBe(true);
    for (const [name, family] of combined) {
      expect({ name, help: family.help, type: family.type }).toEqual({ name, help: 1, type: 1 });
    }
  });
});
