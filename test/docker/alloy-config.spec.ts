/**
 * docker/alloy/config.alloy: syntax (own parser, no Alloy binary here) and the component graph:
 * known components with their required arguments, every reference resolves to a declared
 * component and one of its exports, and logs flow source -> process -> write -> Loki.
 */
import { readFileSync } from 'node:fs';
import {
  AlloySyntaxError,
  parseAlloy,
  referencesIn,
  type AlloyBlock,
  type AlloyStatement,
} from './alloy-syntax.js';

const CONFIG = new URL('../../docker/alloy/config.alloy', import.meta.url);

/** Components used by the stack, with required arguments/blocks and exports (Alloy v1.19 reference docs). */
const COMPONENTS: Record<string, { required: string[]; exports: string[] }> = {
  'discovery.docker': { required: ['host'], exports: ['targets'] },
  'discovery.relabel': { required: ['targets'], exports: ['output', 'rules'] },
  'loki.source.docker': { required: ['host', 'targets', 'forward_to'], exports: [] },
  'loki.process': { required: ['forward_to'], exports: ['receiver', 'rules'] },
  'loki.write': { required: ['endpoint'], exports: ['receiver'] },
};
const PROCESS_STAGES = new Set([
  'stage.json',
  'stage.labels',
  'stage.structured_metadata',
  'stage.match',
  'stage.drop',
  'stage.timestamp',
  'stage.output',
  'stage.static_labels',
  'stage.label_drop',
  'stage.label_keep',
]);

const blocks = (body: AlloyStatement[]) => body.filter((s): s is AlloyBlock => s.kind === 'block');
const attr = (block: AlloyBlock, name: string) =>
  block.body.find((s) => s.kind === 'attribute' && s.name === name) as
    Extract<AlloyStatement, { kind: 'attribute' }> | undefined;

describe('docker/alloy/config.alloy', () => {
  const source = readFileSync(CONFIG, 'utf8');
  const components = blocks(parseAlloy(source));
  const byKey = new Map(components.map((c) => [`${c.name}.${c.label}`, c]));

  it('parses, and the parser rejects the typical mistakes', () => {
    expect(components.length).toBeGreaterThan(0);
    // The checker must be able to fail: each of these is a one-character slip.
    expect(() => parseAlloy(source.replace('refresh_interval = "5s"', 'refresh_interval "5s"'))).toThrow(
      AlloySyntaxError,
    );
    expect(() => parseAlloy(source.replace(/\}\s*$/, ''))).toThrow(AlloySyntaxError);
    expect(() => parseAlloy(source.replace('level      = "level",', 'level      = "level"'))).toThrow(
      AlloySyntaxError,
    );
    expect(() => parseAlloy('a = "unterminated\n')).toThrow(AlloySyntaxError);
  });

  it('uses only known components, each labelled once, with its required arguments', () => {
    for (const c of components) {
      const spec = COMPONENTS[c.name];
      expect(spec, `unknown component ${c.name}`).toBeDefined();
      expect(c.label, `${c.name} needs a label`).toMatch(/^[a-z_][a-z0-9_]*$/);
      for (const req of spec!.required) {
        const present = c.body.some((s) => s.name === req);
        expect(present, `${c.name} "${c.label}" lacks ${req}`).toBe(true);
      }
    }
    expect(byKey.size).toBe(components.length);
  });

  it('every reference names a declared component and one of its exports', () => {
    const refs: string[] = [];
    const walk = (body: AlloyStatement[]) => {
      for (const s of body) {
        if (s.kind === 'attribute') refs.push(...referencesIn(s.value));
        else walk(s.body);
      }
    };
    walk(components.flatMap((c) => c.body));
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const key = [...byKey.keys()].find((k) => ref.startsWith(`${k}.`));
      expect(key, `reference ${ref} points to no declared component`).toBeDefined();
      const exportName = ref.slice(key!.length + 1);
      expect(COMPONENTS[byKey.get(key!)!.name]!.exports).toContain(exportName);
    }
  });

  it('loki.process uses only known stages', () => {
    const stages: string[] = [];
    const walk = (body: AlloyStatement[]) =>
      blocks(body).forEach((b) => {
        stages.push(b.name);
        if (b.name === 'stage.match') walk(b.body);
      });
    components.filter((c) => c.name === 'loki.process').forEach((c) => walk(c.body));
    expect(stages.length).toBeGreaterThan(0);
    for (const s of stages) expect(PROCESS_STAGES, `unknown stage ${s}`).toContain(s);
  });

  it('ships Docker logs through the JSON stage to Loki, request id as structured metadata not a label', () => {
    const sourceDocker = components.find((c) => c.name === 'loki.source.docker')!;
    const forward = referencesIn(attr(sourceDocker, 'forward_to')!.value);
    expect(forward.every((r) => r.startsWith('loki.process.'))).toBe(true);
    const processor = components.find((c) => c.name === 'loki.process')!;
    expect(referencesIn(attr(processor, 'forward_to')!.value).every((r) => r.startsWith('loki.write.'))).toBe(
      true,
    );

    const write = components.find((c) => c.name === 'loki.write')!;
    const endpoint = blocks(write.body).find((b) => b.name === 'endpoint')!;
    const url = attr(endpoint, 'url')!.value;
    expect(url).toEqual({ kind: 'literal', value: 'http://loki:3100/loki/api/v1/push' });

    // A request id as an index label would create one stream per request.
    expect(source).toMatch(/stage\.structured_metadata\s*\{[^}]*request_id/s);
    // OpenTelemetry ids, as the app's own shipper sends them (libs/loki-logger, OpenTelemetry).
    expect(source).toMatch(/stage\.structured_metadata\s*\{[^}]*trace_id[^}]*span_id/s);
    expect(source).toMatch(/stage\.json\s*\{[^}]*trace_id\s*=\s*"trace_id"/s);
    expect(source).not.toMatch(/stage\.labels\s*\{[^}]*request_id/s);
    // The Docker socket is the one the stack mounts.
    expect(source).toContain('unix:///var/run/docker.sock');
  });
});
