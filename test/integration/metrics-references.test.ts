// The alert rules and the Grafana dashboard read against what a running gateway exports: every
// metric they name is in its /metrics, with the labels they filter, group and print by, and a label
// value they match exists (known label values are exported at 0 from the start). The live text is
// checked as Prometheus reads it: one HELP and one TYPE per family, counters named *_total, no
// NaN, no negative value but the documented -1 of the quota headroom.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startFakeSqs, type FakeSqs } from '../helpers/fake-sqs.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TEST_TOPIC_ARN } from '../helpers/sns-signer.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');

/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = ['job', 'instance'];

interface Family {
  type: string | undefined;
  help: number;
  types: number;
  /** Label name → the values seen. */
  labels: Map<string, Set<string>>;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    const found: Family = families.get(name) ?? {
      type: undefined,
      help: 0,
      types: 0,
      labels: new Map<string, Set<string>>(),
      samples: [],
    };
    families.set(name, found);
    return found;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+)(?: (\S+))?/.exec(line);
    if (meta) {
      const target = family(meta[2]!);
      if (meta[1] === 'HELP') target.help += 1;
      else {
        target.types += 1;
        target.type = meta[3];
      }
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`malformed exposition line: ${line}`);
    const [, name, labelText, value] = sample;
    const base = name!.replace(/_(bucket|sum|count)$/, '');
    const target = families.get(name!)?.types ? families.get(name!)! : family(base);
    const labels: Record<string, string> = {};
    for (const [, key, val] of (labelText ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = val!;
      const values = target.labels.get(key!) ?? new Set<string>();
      values.add(val!);
      target.labels.set(key!, values);
    }
    target.samples.push({ name: name!, labels, value: Number(value) });
  }
  return families;
}

interface Selector {
  metric: string;
  matchers: { label: string; op: string; value: string }[];
}

function selectorsIn(expr: string): Selector[] {
  return [...expr.matchAll(/\b(ses_relay_\w+)(?:\{([^}]*)\})?/g)].map(([, metric, body]) => ({
    metric: metric!,
    matchers: [...(body ?? '').matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map(
      ([, label, op, value]) => ({ label: label!, op: op!, value: value! }),
    ),
  }));
}

/** Label names in by (…), without (…), on (…) and ignoring (…). */
function groupingLabels(expr: string): string[] {
  return [...expr.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)].flatMap(([, list]) =>
    list!
      .split(',')
      .map((label) => label.trim())
      .filter(Boolean),
  );
}

/** Labels a result of `expr` carries: its by (…) lists, or when it aggregates nothing, its series'. */
function resultLabels(expr: string, families: Map<string, Family>): Set<string> {
  const by = [...expr.matchAll(/\bby\s*\(([^)]*)\)/g)].flatMap(([, list]) =>
    list!.split(',').map((label) => label.trim()),
  );
  if (by.length > 0) return new Set(by);
  if (/\b(sum|min|max|avg|count|histogram_quantile)\s*\(/.test(expr)) return new Set();
  const labels = new Set(TARGET_LABELS);
  for (const { metric } of selectorsIn(expr))
    for (const label of families.get(familyOf(metric, families))?.labels.keys() ?? []) labels.add(label);
  return labels;
}

function familyOf(metric: string, families: Map<string, Family>): string {
  return families.has(metric) ? metric : metric.replace(/_(bucket|sum|count)$/, '');
}

/** Problems with `expr` against the live families; empty when it refers only to what exists. */
function problemsOf(where: string, expr: string, families: Map<string, Family>): string[] {
  const problems: string[] = [];
  const selectors = selectorsIn(expr);
  const known = (metric: string) => families.get(familyOf(metric, families));
  for (const { metric, matchers } of selectors) {
    const family = known(metric);
    if (!family) {
      problems.push(`${where}: no metric ${metric}`);
      continue;
    }
    for (const { label, op, value } of matchers) {
      if (TARGET_LABELS.includes(label)) continue;
      const values = family.labels.get(label);
      if (!values) {
        problems.push(`${where}: ${metric} has no label ${label}`);
        continue;
      }
      const matches =
        op === '='
          ? values.has(value)
          : op === '=~'
            ? [...values].some((v) => new RegExp(`^(?:${value})$`).test(v))
            : true;
      if (!matches) problems.push(`${where}: ${metric}{${label}${op}"${value}"} matches no exported value`);
    }
  }
  for (const label of groupingLabels(expr)) {
    if (TARGET_LABELS.includes(label)) continue;
    if (!selectors.some(({ metric }) => known(metric)?.labels.has(label)))
      problems.push(`${where}: groups by ${label}, which none of its metrics has`);
  }
  return problems;
}

/** Problems with a text that prints labels ({{label}}, {{ $labels.label }}) of `expr`'s result. */
function printedLabelProblems(where: string, text: string, labels: Set<string>): string[] {
  const problems: string[] = [];
  // One pass: what is left of a template doubled by mistake ({{{{node}}}}) keeps its braces.
  const stripped = text.replace(/\{\{[^{}]*\}\}/g, '');
  if (/[{}]/.test(stripped)) problems.push(`${where}: malformed template ${JSON.stringify(text)}`);
  for (const [, label] of text.matchAll(/\{\{\s*(?:\$labels\.)?(\w+)\s*\}\}/g)) {
    if (label === 'value' || label === '$value') continue;
    if (!labels.has(label!)) problems.push(`${where}: prints ${label}, which the query does not keep`);
  }
  return problems;
}

describe('alert rules and dashboard against a running gateway', () => {
  let sqs: FakeSqs;
  let gw: TestGateway;
  let families: Map<string, Family>;
  beforeAll(async () => {
    sqs = await startFakeSqs();
    // Every role and the SQS poller: every metric group a deployment can export.
    gw = await startGateway({
      SQS_QUEUE_URL: sqs.queueUrl,
      SQS_ENDPOINT: sqs.url,
      SNS_TOPIC_ARNS: TEST_TOPIC_ARN,
    });
    // prom-client's event-loop lag reads NaN until its first 10 ms sample, which a scrape right after
    // start-up can beat; any other NaN stays and fails the test below.
    families = await waitFor(
      async () => {
        const scraped = parseExposition(
          await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text(),
        );
        const lag = scraped.get('ses_relay_nodejs_eventloop_lag_mean_seconds')?.samples[0]?.value;
        return lag === undefined || Number.isNaN(lag) ? undefined : scraped;
      },
      { what: 'the event-loop lag to have its first sample' },
    );
  });
  afterAll(async () => {
    await gw?.stop();
    await sqs?.stop();
  });

  it('exports valid exposition: one HELP and TYPE per family, *_total counters, no NaN or negatives', () => {
    expect(families.size).toBeGreaterThan(20);
    for (const [name, family] of families) {
      expect({ name, help: family.help, types: family.types }).toEqual({ name, help: 1, types: 1 });
      if (family.type === 'counter') expect(name).toMatch(/_total$/);
      for (const sample of family.samples) {
        expect(Number.isNaN(sample.value), `${sample.name} ${JSON.stringify(sample.labels)}`).toBe(false);
        const floor = name === 'ses_relay_quota_headroom' ? -1 : 0;
        expect(sample.value, `${sample.name} ${JSON.stringify(sample.labels)}`).toBeGreaterThanOrEqual(floor);
      }
      if (family.type === 'histogram') {
        const inf = family.samples.find((s) => s.name === `${name}_bucket` && s.labels.le === '+Inf');
        const count = family.samples.find((s) => s.name === `${name}_count`);
        expect(inf?.value, name).toBe(count?.value);
      }
    }
  });

  it('alert rules name only exported metrics, labels and label values, and print labels they keep', () => {
    const rules = (
      parse(read('docker/prometheus/alerts.yml')) as {
        groups: { rules: { alert: string; expr: string; annotations?: Record<string, string> }[] }[];
      }
    ).groups.flatMap((group) => group.rules);
    const problems = rules.flatMap((rule) => [
      ...problemsOf(rule.alert, rule.expr, families),
      ...Object.values(rule.annotations ?? {}).flatMap((text) =>
        printedLabelProblems(rule.alert, text, resultLabels(rule.expr, families)),
      ),
    ]);
    expect(problems).toEqual([]);
  });

  it('dashboard queries, variables and legends name only exported metrics and labels', () => {
    const dashboard = JSON.parse(read('docker/grafana/dashboards/ses-relay.json')) as {
      panels: { title: string; targets?: { expr: string; legendFormat?: string }[] }[];
      templating: { list: { name: string; definition?: string }[] };
    };
    const problems: string[] = [];
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        problems.push(...problemsOf(panel.title, target.expr, families));
        if (target.legendFormat)
          problems.push(
            ...printedLabelProblems(panel.title, target.legendFormat, resultLabels(target.expr, families)),
          );
      }
    }
    for (const variable of dashboard.templating.list) {
      const query = /^label_values\((.*),\s*(\w+)\)$/.exec(variable.definition ?? '');
      if (!query) continue;
      problems.push(...problemsOf(`variable ${variable.name}`, query[1]!, families));
      expect(selectorsIn(query[1]!).length, variable.name).toBe(1);
    }
    expect(problems).toEqual([]);
  });
});
