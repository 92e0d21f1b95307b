/**
 * docker/loki/loki.yaml against the keys Loki 3.7 accepts (Loki exits on an unknown field), and
 * the settings the stack relies on: retention on, structured metadata allowed, port 3100.
 */
import { parse } from 'yaml';
import { LOKI_3_7_KEYS, unknownKeys } from './loki-accepted-keys.js';
import { loadCompose, readDockerFile, STACKS } from './stack-files.js';

type LokiConfig = {
  auth_enabled: boolean;
  server: { http_listen_port: number };
  schema_config: {
    configs: { store: string; schema: string; object_store: string; index: { period: string } }[];
  };
  limits_config: { retention_period: string; allow_structured_metadata: boolean };
  compactor: { retention_enabled: boolean; delete_request_store?: string; working_directory: string };
  common: { path_prefix: string };
};

const hours = (d: string) => {
  const m = /^(\d+)(h|d|w)$/.exec(d);
  if (!m) throw new Error(`unsupported duration ${d}`);
  return Number(m[1]) * { h: 1, d: 24, w: 168 }[m[2] as 'h' | 'd' | 'w'];
};

describe('docker/loki/loki.yaml (Loki 3.7, single binary, filesystem)', () => {
  const text = readDockerFile('loki/loki.yaml');
  const config = parse(text) as LokiConfig;

  it('uses only keys Loki 3.7 accepts', () => {
    expect(unknownKeys(config, LOKI_3_7_KEYS)).toEqual([]);
  });

  it('the key check catches a typo at any depth', () => {
    const typo = parse(text.replace('retention_period:', 'retention_periods:'));
    expect(unknownKeys(typo, LOKI_3_7_KEYS)).toEqual(['limits_config.retention_periods']);
    const deep = parse(text.replace('chunks_directory:', 'chunk_directory:'));
    expect(unknownKeys(deep, LOKI_3_7_KEYS)).toEqual(['common.storage.filesystem.chunk_directory']);
  });

  it('pins the image this key list was written for', () => {
    for (const file of Object.values(STACKS)) {
      expect(loadCompose(file).services.loki!.image).toBe('grafana/loki:3.7.8');
    }
  });

  it('deletes old logs: compactor retention on, a period of at least 24h, a delete-request store', () => {
    expect(config.compactor.retention_enabled).toBe(true);
    expect(config.compactor.delete_request_store).toBe('filesystem');
    expect(hours(config.limits_config.retention_period)).toBeGreaterThanOrEqual(24);
    // Retention works on 24h index tables.
    for (const period of config.schema_config.configs) expect(period.index.period).toBe('24h');
    expect(config.compactor.working_directory.startsWith(config.common.path_prefix)).toBe(true);
  });

  it('accepts the structured metadata Alloy sends (TSDB, schema v13)', () => {
    expect(config.limits_config.allow_structured_metadata).toBe(true);
    const latest = config.schema_config.configs.at(-1)!;
    expect(latest).toMatchObject({ store: 'tsdb', schema: 'v13', object_store: 'filesystem' });
  });

  it('listens where Alloy and Grafana send (port 3100)', () => {
    expect(config.server.http_listen_port).toBe(3100);
    expect(readDockerFile('alloy/config.alloy')).toContain('http://loki:3100/loki/api/v1/push');
    expect(readDockerFile('grafana/provisioning/datasources/datasources.yaml')).toContain(
      'url: http://loki:3100',
    );
  });
});
