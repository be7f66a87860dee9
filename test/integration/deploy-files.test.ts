// Deployment files checked without a container engine or a cluster: the Dockerfile's shape, that
// docker-compose.yml and the Kubernetes manifests refer only to files, services, ports and
// environment variables that exist, and that their settings parse with the real configuration
// schema. `docker compose config` runs too where the compose plugin is installed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig, type EnvInput } from '../../src/config/index.js';
import { parseDurationMs } from '../../src/config/parsers.js';
import { METRIC_PREFIX, type MetricGroup } from '../../src/metrics/definitions.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { RECOMMENDED_NODE_FLAGS } from '../../src/shared/node-flags.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');
const exists = (rel: string) => fs.existsSync(path.join(ROOT, rel));

/** src/main.ts gives the worker and Redis this long past SHUTDOWN_TIMEOUT before it exits anyway. */
const SHUTDOWN_MARGIN_MS = 15_000;

const SCHEMA_KEYS = new Set(
  [...read('src/config/schema.ts').matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((match) => match[1]!),
);
/** Read by the AWS SDK's default credential chain, not by our schema. */
const SDK_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];
/** Used by the deployment files ahead of the code; remove a name once src/config/schema.ts has it. */
const NOT_YET_IN_SCHEMA = ['ADMIN_TOKEN'];
const KNOWN_VARIABLES = new Set([...SCHEMA_KEYS, ...SDK_VARIABLES, ...NOT_YET_IN_SCHEMA]);

/** The gateway's own metrics as a process running every role (and the SQS poller) registers them. */
const GATEWAY_METRICS = (() => {
  const metrics = createMetrics();
  for (const group of ['smtp', 'worker', 'http', 'sqs'] satisfies MetricGroup[]) metrics.enable(group);
  const defaults = new Registry();
  collectDefaultMetrics({ register: defaults, prefix: METRIC_PREFIX });
  const nodeDefaults = new Set(defaults.getMetricsAsArray().map((metric) => metric.name));
  const all = metrics.registry.getMetricsAsArray().map((metric) => metric.name);
  return { all: new Set(all), own: all.filter((name) => !nodeDefaults.has(name)) };
})();

/** The metric names a PromQL expression uses, histogram series (`_bucket`, …) by their metric's name. */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\bses_relay_\w+/g)].map((match) => {
    const name = match[0];
    const base = name.replace(/_(bucket|sum|count)$/, '');
    return GATEWAY_METRICS.all.has(name) ? name : base;
  });
}

/** The image's health check script: compiled to dist/, the source in src/. */
const HEALTHCHECK_SCRIPT = '/app/dist/cli/healthcheck.js';
const sourceOf = (distPath: string) => distPath.replace(/^\/app\/dist\//, 'src/').replace(/\.js$/, '.ts');

function seconds(duration: string): number {
  const ms = parseDurationMs(duration);
  if (ms === undefined) throw new Error(`not a duration: ${duration}`);
  return ms / 1000;
}

// --- docker-compose.yml ---------------------------------------------------------------------------

type EnvValue = string | number | boolean | null;
interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, EnvValue> | string[];
  env_file?: string | string[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  stop_grace_period?: string;
  profiles?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

// Compose files use YAML merge keys (`<<: *anchor`), which YAML 1.2 leaves off by default.
const compose = parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
const services = Object.entries(compose.services);
const gateways = services.filter(([, service]) => typeof service.build === 'object');

function composeEnvEntries(service: ComposeService): [string, EnvValue][] {
  if (!Array.isArray(service.environment)) return Object.entries(service.environment ?? {});
  return service.environment.map((item) => {
    const [key, ...rest] = item.split('=');
    return [key!, rest.length === 0 ? null : rest.join('=')];
  });
}

/** The service's environment as the container sees it when none of the `${VAR:-default}` are set. */
function composeEnv(service: ComposeService): EnvInput {
  const env: EnvInput = {};
  for (const [key, value] of composeEnvEntries(service)) {
    if (value === null) continue; // passed through from the caller's shell, absent otherwise
    env[key] = String(value).replace(/\$\{\w+:-([^}]*)\}/g, '$1');
  }
  return env;
}

/** Host paths a service reads: build context and Dockerfile, bind mounts, env files. */
function filesUsed(service: ComposeService): string[] {
  const files: string[] = [];
  if (typeof service.build === 'string') files.push(service.build);
  else if (service.build) {
    const context = service.build.context ?? '.';
    files.push(context, path.join(context, service.build.dockerfile ?? 'Dockerfile'));
  }
  for (const volume of service.volumes ?? []) {
    const source = typeof volume === 'string' ? volume.split(':')[0]! : (volume.source ?? '');
    if (source.startsWith('.') || source.startsWith('/')) files.push(source);
  }
  if (service.env_file) files.push(...[service.env_file].flat());
  return files;
}

function containerPathOf(service: ComposeService, hostPath: string): string | undefined {
  for (const volume of service.volumes ?? []) {
    if (typeof volume !== 'string') continue;
    const [source, target] = volume.split(':');
    if (path.normalize(source!) === path.normalize(hostPath)) return target;
  }
  return undefined;
}

describe('docker-compose.yml', () => {
  it('builds and mounts only files that exist in the repository', () => {
    const named = Object.keys(compose.volumes ?? {});
    for (const [name, service] of services) {
      for (const file of filesUsed(service)) expect(exists(file), `${name}: ${file}`).toBe(true);
      for (const volume of service.volumes ?? []) {
        const source = typeof volume === 'string' ? volume.split(':')[0]! : (volume.source ?? '');
        if (!/^[./]/.test(source)) expect(named, `${name}: volume ${source}`).toContain(source);
      }
    }
  });

  it('runs Redis with noeviction and an append-only file on a volume, with a healthcheck', () => {
    const redis = compose.services.redis!;
    const command = [redis.command ?? []].flat().join(' ');
    expect(command).toMatch(/--maxmemory-policy noeviction\b/);
    expect(command).toMatch(/--appendonly yes\b/);
    expect(redis.volumes).toContainEqual(expect.stringMatching(/:\/data$/));
    expect(redis.healthcheck?.test).toBeDefined();
  });

  it('gives each gateway a healthy Redis, a healthcheck and a grace period longer than its drain', () => {
    expect(gateways.map(([name]) => name)).toContain('ses-relay');
    for (const [name, service] of gateways) {
      expect(service.depends_on, name).toMatchObject({ redis: { condition: 'service_healthy' } });
      // The image's script, which asks /healthz over HTTP or HTTPS as HTTP_TLS_CERT says.
      expect(service.healthcheck?.test, name).toEqual(['CMD', 'node', HEALTHCHECK_SCRIPT]);
      const config = parseConfig(composeEnv(service));
      expect(seconds(service.stop_grace_period ?? '10s'), name).toBeGreaterThanOrEqual(
        (config.SHUTDOWN_TIMEOUT + SHUTDOWN_MARGIN_MS) / 1000,
      );
    }
  });

  it("publishes the gateways' ports on loopback only (a LAN port would relay for anyone behind a userland proxy)", () => {
    for (const [name, service] of gateways) {
      const ports = (service as { ports?: (string | { host_ip?: string })[] }).ports ?? [];
      expect(ports.length, name).toBeGreaterThan(0);
      for (const port of ports) {
        if (typeof port === 'string') expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
        else expect(port.host_ip, name).toBe('127.0.0.1');
      }
    }
  });

  it('sets only known variables on the gateways, with values the schema accepts', () => {
    for (const [name, service] of gateways) {
      for (const [key] of composeEnvEntries(service))
        expect(KNOWN_VARIABLES, `${name}: ${key}`).toContain(key);
      const config = parseConfig(composeEnv(service));
      expect(config.HTTP_HOST, name).toBe('0.0.0.0');
      expect(config.ROLES, name).toContain('http'); // the healthcheck needs it
    }
  });

  it('points REDIS_URL and SES_ENDPOINT at compose services, the emulator on the port it listens on', () => {
    for (const [name, service] of gateways) {
      const env = composeEnv(service);
      for (const key of ['REDIS_URL', 'SES_ENDPOINT'] as const) {
        if (env[key] === undefined) continue;
        const url = new URL(env[key]);
        const target = compose.services[url.hostname];
        expect(target, `${name}: ${key}=${env[key]}`).toBeDefined();
        const profiles = target!.profiles ?? [];
        if (profiles.length > 0) expect(service.profiles, `${name}: ${key} profile`).toEqual(profiles);
        if (key === 'SES_ENDPOINT') expect([target!.command ?? []].flat()).toContain(url.port);
      }
    }
  });

  it('scrapes the gateways from Prometheus and provisions Grafana from the mounted folders', () => {
    const prometheus = parse(read('docker/prometheus/prometheus.yml')) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = prometheus.scrape_configs.flatMap((job) => job.static_configs.flatMap((s) => s.targets));
    for (const target of targets) {
      const [host, port] = target.split(':');
      expect(gateways.map(([name]) => name)).toContain(host);
      expect(port).toBe('8080');
    }

    const grafana = compose.services.grafana!;
    expect(containerPathOf(grafana, './docker/grafana/provisioning')).toBe('/etc/grafana/provisioning');
    const provider = parse(read('docker/grafana/provisioning/dashboards/ses-relay.yml')) as {
      providers: { options: { path: string } }[];
    };
    expect(containerPathOf(grafana, './docker/grafana/dashboards')).toBe(provider.providers[0]!.options.path);
    const datasources = parse(read('docker/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: { url: string }[];
    };
    expect(compose.services[new URL(datasources.datasources[0]!.url).hostname]).toBe(
      compose.services.prometheus,
    );
  });

  // The compose plugin validates the file against the compose specification without a daemon.
  const plugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 10_000 });
  const hasPlugin = plugin.status === 0;
  it.skipIf(!hasPlugin)(
    hasPlugin
      ? 'is accepted by `docker compose config -q` with every profile'
      : 'docker compose config -q: SKIPPED, the `docker compose` plugin is not installed here',
    () => {
      const result = spawnSync(
        'docker',
        ['compose', '--profile', 'local-ses', '--profile', 'monitoring', 'config', '-q'],
        { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
      );
      expect(result.status, result.stderr).toBe(0);
    },
  );
});

// --- docker/Dockerfile ----------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions per build stage, continuation lines joined and comments dropped. */
function dockerfileStages(text: string): Instruction[][] {
  const stages: Instruction[][] = [];
  const logical = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  for (const line of logical.map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args };
    if (instruction.keyword === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}

describe('docker/Dockerfile', () => {
  const stages = dockerfileStages(read('docker/Dockerfile'));
  const final = stages.at(-1)!;
  const args = (stage: Instruction[], keyword: string) =>
    stage.filter((i) => i.keyword === keyword).map((i) => i.args);

  it('builds with dev dependencies in one stage and ships production dependencies in a Node 22 image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.slice(0, -1).flatMap((stage) => args(stage, 'RUN'));
    expect(build).toContainEqual(expect.stringMatching(/^npm install\b(?!.*--omit=dev)/));
    expect(build).toContainEqual(expect.stringMatching(/\bnpm run build\b/));
    expect(args(final, 'FROM')[0]).toMatch(/^node:22[-.\w]*/);
    expect(args(final, 'RUN')).toContainEqual(expect.stringMatching(/\bnpm install --omit=dev\b/));
  });

  it('runs as a non-root user, with a healthcheck, SIGTERM and the CLI entry point', () => {
    const users = args(final, 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    const healthcheck = args(final, 'HEALTHCHECK').join(' ');
    expect(JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD') + 3))).toEqual([
      'node',
      HEALTHCHECK_SCRIPT,
    ]);
    const script = read(sourceOf(HEALTHCHECK_SCRIPT));
    expect(script).toContain('/healthz');
    expect(script).toContain('HTTP_TLS_CERT');
    expect(args(final, 'STOPSIGNAL')).toEqual(['SIGTERM']);
    expect(args(final, 'EXPOSE').join(' ').split(/\s+/)).toEqual(expect.arrayContaining(['2525', '8080']));
    expect(args(final, 'ENV')).toContain('HTTP_HOST=0.0.0.0');
    const entrypoint = JSON.parse(args(final, 'ENTRYPOINT')[0]!) as string[];
    const bin = (JSON.parse(read('package.json')) as { bin: Record<string, string> }).bin['ses-relay'];
    expect(entrypoint).toEqual(['node', ...RECOMMENDED_NODE_FLAGS, bin]);
    expect(JSON.parse(args(final, 'CMD')[0]!)).toEqual(['start']);
  });

  it('puts `ses-relay` on PATH: the package bin, made executable, with a node shebang', () => {
    const bin = (JSON.parse(read('package.json')) as { bin: Record<string, string> }).bin['ses-relay']!;
    expect(args(final, 'WORKDIR').at(-1)).toBe('/app');
    const runs = args(final, 'RUN').join(' && ');
    expect(runs).toContain(`chmod 755 ${bin}`);
    expect(runs).toContain(`ln -s /app/${bin} /usr/local/bin/ses-relay`);
    expect(read(bin.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts')).split('\n')[0]).toBe(
      '#!/usr/bin/env node',
    );
  });

  it('keeps installed modules, secrets and local state out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim());
    // Host modules (other platform, dev dependencies), .env secrets, the demo's Redis data and the
    // benchmark tools: none belongs in an image, and each would bust the layer cache.
    expect(ignored).toEqual(
      expect.arrayContaining(['node_modules', '.env', '.env.*', '.demo', '.bench-tools', '.git']),
    );
  });

  it('copies only files that exist and that .dockerignore leaves in the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    const sources = stages
      .flat()
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(exists(source), source).toBe(true);
      expect(ignored, source).not.toContain(source.split('/')[0]);
    }
  });
});

// --- docker/k8s/*.yaml ----------------------------------------------------------------------------

interface Probe {
  httpGet?: { path: string; port: string | number; scheme?: string };
}
interface K8sContainer {
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe & { periodSeconds?: number; failureThreshold?: number };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
}
interface K8sObject {
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    ports?: { port: number; protocol?: string; targetPort: string | number }[];
    template?: {
      metadata: { labels: Record<string, string> };
      spec: {
        serviceAccountName?: string;
        terminationGracePeriodSeconds?: number;
        containers: K8sContainer[];
      };
    };
  };
}

/** What `kubectl apply -f docker/k8s/` applies: the directory's .yaml, .yml and .json files. */
const k8sFiles = fs
  .readdirSync(path.join(ROOT, 'docker/k8s'))
  .filter((file) => /\.(ya?ml|json)$/.test(file))
  .map((file) => `docker/k8s/${file}`);
/** The Secret, with placeholders: copied and filled in by the operator, never applied from here. */
const SECRET_EXAMPLE = 'docker/k8s/secret.yaml.example';
const k8sDocuments = [...k8sFiles, SECRET_EXAMPLE].flatMap((file) =>
  parseAllDocuments(read(file)).map((doc) => ({ file, doc, object: doc.toJS() as K8sObject | null })),
);
const objects = k8sDocuments.flatMap(({ object }) => (object ? [object] : []));
const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

describe('docker/k8s manifests', () => {
  const deployments = ofKind('Deployment');
  const configMap = ofKind('ConfigMap')[0];
  const secret = ofKind('Secret')[0];
  // The Secret as the operator applies it, placeholders filled in (the schema refuses REPLACE_WITH_…).
  const filledSecret = Object.fromEntries(
    Object.entries(secret?.stringData ?? {}).map(([key, value]) => [
      key,
      value.replace(/REPLACE_WITH_\w+/g, 'a-long-random-value'),
    ]),
  );

  it('parse without errors', () => {
    expect(k8sFiles.length).toBeGreaterThan(0);
    for (const { file, doc } of k8sDocuments) expect(doc.errors, file).toEqual([]);
  });

  it('leaves the placeholder Secret out of `kubectl apply -f docker/k8s/`, and says to copy it', () => {
    const applied = k8sDocuments.filter(({ file }) => k8sFiles.includes(file));
    expect(applied.filter(({ object }) => object?.kind === 'Secret').map(({ file }) => file)).toEqual([]);
    expect(secret?.stringData?.ADMIN_TOKEN).toMatch(/^REPLACE/);
    const readme = read('docker/k8s/README.md');
    expect(readme).toContain(`cp ${SECRET_EXAMPLE} `);
    expect(readme).not.toMatch(/`secret\.yaml`|k8s\/secret\.yaml(?!\.example)/);
  });

  it('has one Deployment per role, each also running the http role for its probes', () => {
    const roles = deployments.map((d) => d.spec!.template!.metadata.labels['app.kubernetes.io/component']);
    expect(roles.sort()).toEqual(['http', 'smtp', 'worker']);
    for (const deployment of deployments) {
      const role = deployment.spec!.template!.metadata.labels['app.kubernetes.io/component']!;
      const container = deployment.spec!.template!.spec.containers[0]!;
      const value = container.env?.find((e) => e.name === 'ROLES')?.value ?? '';
      expect(value.split(','), deployment.metadata.name).toEqual(expect.arrayContaining([role, 'http']));
    }
  });

  it('probes /healthz for liveness and /readyz for readiness on a declared container port', () => {
    for (const deployment of deployments) {
      for (const container of deployment.spec!.template!.spec.containers) {
        const ports = (container.ports ?? []).flatMap((p) => [p.name, p.containerPort]);
        expect(container.livenessProbe?.httpGet?.path, deployment.metadata.name).toBe('/healthz');
        expect(container.readinessProbe?.httpGet?.path, deployment.metadata.name).toBe('/readyz');
        expect(ports).toContain(container.livenessProbe!.httpGet!.port);
        expect(ports).toContain(container.readinessProbe!.httpGet!.port);
      }
    }
  });

  it('holds liveness off with a startupProbe on /healthz that allows a slow start', () => {
    for (const deployment of deployments) {
      for (const container of deployment.spec!.template!.spec.containers) {
        const probe = container.startupProbe;
        expect(probe?.httpGet?.path, deployment.metadata.name).toBe('/healthz');
        expect(container.ports?.map((p) => p.name)).toContain(probe!.httpGet!.port);
        expect((probe!.periodSeconds ?? 10) * (probe!.failureThreshold ?? 3)).toBeGreaterThanOrEqual(60);
      }
    }
  });

  it('probes over HTTPS exactly when the ConfigMap gives the HTTP role a certificate', () => {
    const tls = parseConfig({ ...configMap?.data, ...filledSecret }).HTTP_TLS_CERT !== undefined;
    for (const container of deployments.flatMap((d) => d.spec!.template!.spec.containers)) {
      for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
        expect(probe?.httpGet?.scheme ?? 'HTTP').toBe(tls ? 'HTTPS' : 'HTTP');
      }
    }
  });

  it('names the SNS topics the webhook accepts (a placeholder to replace)', () => {
    expect(parseConfig({ ...configMap?.data }).SNS_TOPIC_ARNS.length).toBeGreaterThan(0);
  });

  it('matches each Deployment with exactly one PodDisruptionBudget', () => {
    const budgets = ofKind('PodDisruptionBudget');
    for (const deployment of deployments) {
      const labels = deployment.spec!.template!.metadata.labels;
      const matching = budgets.filter((b) => selects(b.spec!.selector!.matchLabels!, labels));
      expect(matching, deployment.metadata.name).toHaveLength(1);
      expect(selects(deployment.spec!.selector!.matchLabels!, labels)).toBe(true);
    }
  });

  it('allows each pod its preStop sleep, SHUTDOWN_TIMEOUT and the shutdown margin', () => {
    const config = parseConfig({ ...configMap?.data, ...filledSecret });
    for (const deployment of deployments) {
      const pod = deployment.spec!.template!.spec;
      const preStop = pod.containers[0]!.lifecycle?.preStop?.exec?.command ?? [];
      const sleepSeconds = preStop[0] === 'sleep' ? Number(preStop[1]) : 0;
      const needed = sleepSeconds + (config.SHUTDOWN_TIMEOUT + SHUTDOWN_MARGIN_MS) / 1000;
      expect(pod.terminationGracePeriodSeconds, deployment.metadata.name).toBeGreaterThanOrEqual(
        Math.max(60, needed),
      );
    }
  });

  it('sets only known variables, from a ConfigMap and Secret that exist, with values the schema accepts', () => {
    expect(configMap).toBeDefined();
    expect(secret).toBeDefined();
    const names = [
      ...Object.keys(configMap!.data ?? {}),
      ...Object.keys(secret!.stringData ?? {}),
      ...deployments.flatMap((d) =>
        d.spec!.template!.spec.containers.flatMap((c) => c.env ?? []).map((e) => e.name),
      ),
    ];
    for (const name of names) expect(KNOWN_VARIABLES, name).toContain(name);
    for (const container of deployments.flatMap((d) => d.spec!.template!.spec.containers)) {
      for (const source of container.envFrom ?? []) {
        if (source.configMapRef) expect(source.configMapRef.name).toBe(configMap!.metadata.name);
        if (source.secretRef) expect(source.secretRef.name).toBe(secret!.metadata.name);
      }
    }
    // The kubelet probes the pod IP, so the HTTP role must listen beyond loopback.
    expect(parseConfig({ ...configMap!.data, ...filledSecret }).HTTP_HOST).toBe('0.0.0.0');
  });

  it('runs the pods as an IRSA-annotated ServiceAccount', () => {
    const accounts = ofKind('ServiceAccount');
    for (const deployment of deployments) {
      const account = accounts.find(
        (a) => a.metadata.name === deployment.spec!.template!.spec.serviceAccountName,
      );
      expect(account, deployment.metadata.name).toBeDefined();
      expect(account!.metadata.annotations?.['eks.amazonaws.com/role-arn']).toMatch(/^arn:aws:iam::/);
    }
  });

  it('routes SMTP (TCP 2525) and HTTP Services to a named port of exactly one Deployment', () => {
    const servicesByName = new Map(ofKind('Service').map((s) => [s.metadata.name, s]));
    expect([...servicesByName.keys()].sort()).toEqual(['ses-relay-http', 'ses-relay-smtp']);
    expect(servicesByName.get('ses-relay-smtp')!.spec!.ports).toContainEqual(
      expect.objectContaining({ port: 2525, protocol: 'TCP' }),
    );
    for (const service of servicesByName.values()) {
      const selector = service.spec!.selector as Record<string, string>;
      const targets = deployments.filter((d) => selects(selector, d.spec!.template!.metadata.labels));
      expect(targets, service.metadata.name).toHaveLength(1);
      const portNames = targets[0]!.spec!.template!.spec.containers.flatMap((c) =>
        (c.ports ?? []).map((p) => p.name),
      );
      for (const port of service.spec!.ports!) expect(portNames).toContain(port.targetPort);
    }
  });
});

// --- docker/grafana/dashboards/ses-relay.json -----------------------------------------------------

describe('Grafana dashboard', () => {
  interface Panel {
    id: number;
    type: string;
    title: string;
    gridPos: { x: number; w: number };
    targets?: { expr: string }[];
  }
  const dashboard = JSON.parse(read('docker/grafana/dashboards/ses-relay.json')) as {
    uid: string;
    panels: Panel[];
    templating: { list: { name: string; type: string; definition?: string }[] };
  };

  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it('charts every gateway metric and no unknown one', () => {
    const used = new Set(exprs.flatMap(metricsIn));
    expect([...used].sort()).toEqual([...GATEWAY_METRICS.own].sort());
  });

  it('filters every query by the job and instance variables it defines', () => {
    const variables = dashboard.templating.list.map((v) => v.name);
    expect(variables).toEqual(expect.arrayContaining(['datasource', 'job', 'instance']));
    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
      for (const name of metricsIn(variable.definition ?? '')) expect(GATEWAY_METRICS.all).toContain(name);
    }
    for (const expr of exprs) {
      const selectors = [...expr.matchAll(/\bses_relay_\w+(\{[^}]*\})?/g)];
      for (const [series, labels] of selectors) {
        expect(labels ?? '', series).toContain('job=~"$job"');
        expect(labels ?? '', series).toContain('instance=~"$instance"');
      }
    }
  });

  it('shows who holds sending', () => {
    expect(exprs.some((expr) => expr.includes('ses_relay_sending_held'))).toBe(true);
  });

  it('has unique panel ids, a query on every chart and panels within the 24-column grid', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      if (panel.type !== 'row') expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    }
  });
});

// --- docker/prometheus/alerts.yml ------------------------------------------------------------------

describe('Prometheus alert rules', () => {
  interface Rule {
    alert: string;
    expr: string;
    for?: string;
    labels?: { severity?: string };
    annotations?: { summary?: string; description?: string };
  }
  const rules = (
    parse(read('docker/prometheus/alerts.yml')) as { groups: { rules: Rule[] }[] }
  ).groups.flatMap((group) => group.rules);

  it('are loaded by the compose Prometheus from the mounted file', () => {
    const prometheus = compose.services.prometheus!;
    const config = parse(read('docker/prometheus/prometheus.yml')) as { rule_files: string[] };
    expect(config.rule_files).toContain(containerPathOf(prometheus, './docker/prometheus/alerts.yml'));
  });

  it('have unique names, a severity, a summary and a duration that parses', () => {
    expect(new Set(rules.map((rule) => rule.alert)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      if (rule.for !== undefined) expect(parseDurationMs(rule.for), rule.alert).toBeGreaterThan(0);
    }
  });

  it('use only metrics the gateway registers', () => {
    for (const rule of rules) {
      for (const name of metricsIn(rule.expr)) expect(GATEWAY_METRICS.all, rule.alert).toContain(name);
    }
  });

  it('alert when intake refuses mail because the queue does not take it, and on Redis memory over 80 %', () => {
    const exprs = rules.map((rule) => rule.expr.replace(/\s+/g, ' ').trim());
    expect(exprs).toContainEqual(
      expect.stringMatching(
        /^sum\(rate\(ses_relay_messages_refused_total\{reason=~"queue\|queue_full"\}\[\w+\]\)\) > 0$/,
      ),
    );
    // Per master, and only where a limit is set (0 = none).
    expect(exprs).toContain(
      'max by (node) (ses_relay_redis_memory_used_bytes) / max by (node) (ses_relay_redis_memory_max_bytes > 0) > 0.8',
    );
  });

  it('cover holds, waiting mail, reputation, Redis, SES failures and targets that are down', () => {
    const used = new Set(rules.flatMap((rule) => metricsIn(rule.expr)));
    for (const name of [
      'ses_relay_sending_held',
      'ses_relay_queue_oldest_waiting_seconds',
      'ses_relay_bounce_rate',
      'ses_relay_complaint_rate',
      'ses_relay_redis_up',
      'ses_relay_redis_may_evict',
      'ses_relay_ses_calls_total',
    ]) {
      expect(used, name).toContain(name);
    }
    const job = (
      parse(read('docker/prometheus/prometheus.yml')) as { scrape_configs: { job_name: string }[] }
    ).scrape_configs[0]!.job_name;
    expect(rules.map((rule) => rule.expr)).toContain(`up{job="${job}"} == 0`);
  });
});
