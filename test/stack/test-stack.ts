/**
 * The one test override of docker/swarm/stack.yml. Everything else in the stack runs as users
 * run it. Each change, and why this machine needs it:
 *  1. placement removed (constraints on node labels, max_replicas_per_node): one node here;
 *  2. deploy.endpoint_mode: dnsrr on every service: this kernel has no IPVS, so Swarm's virtual
 *     IPs do not route (the Redis services and Sentinels already use dnsrr);
 *  3. the app's published ingress port removed: Swarm refuses an ingress port on a dnsrr
 *     service (and the routing mesh needs IPVS too); the test reaches each task directly;
 *  4. loki, alloy and grafana left out, with the configs, volumes and secret only they use:
 *     their images cannot be made here (Prometheus runs, on a stand-in image: base-images.ts);
 *  5. config `file:` paths made absolute, because the result is written to a temporary folder.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import YAML from 'yaml';

export const LEFT_OUT = ['loki', 'alloy', 'grafana'];

type Doc = {
  services: Record<string, Record<string, unknown> & { deploy?: Record<string, unknown> }>;
  configs: Record<string, { file?: string; name?: string }>;
  volumes: Record<string, unknown>;
  secrets: Record<string, unknown>;
};

export function testStack(stackPath: string): { yaml: string; services: string[] } {
  // YAML 1.1 as Docker's own loader reads it (mode: 0400 is octal there).
  const doc = YAML.parse(readFileSync(stackPath, 'utf8'), { version: '1.1', merge: true }) as Doc;
  for (const name of LEFT_OUT) delete doc.services[name];
  for (const service of Object.values(doc.services)) {
    const deploy = (service.deploy ??= {});
    delete deploy.placement;
    deploy.endpoint_mode = 'dnsrr';
  }
  delete doc.services.app!.ports;
  const used = (kind: 'configs' | 'secrets') =>
    new Set(
      Object.values(doc.services).flatMap((s) =>
        ((s[kind] as Array<{ source: string } | string> | undefined) ?? []).map((e) =>
          typeof e === 'string' ? e : e.source,
        ),
      ),
    );
  const usedConfigs = used('configs');
  for (const key of Object.keys(doc.configs)) {
    if (!usedConfigs.has(key)) delete doc.configs[key];
    else doc.configs[key]!.file = resolve(dirname(stackPath), doc.configs[key]!.file!);
  }
  const usedSecrets = used('secrets');
  for (const key of Object.keys(doc.secrets)) if (!usedSecrets.has(key)) delete doc.secrets[key];
  for (const name of LEFT_OUT) delete doc.volumes[`${name}-data`];
  return { yaml: YAML.stringify(doc, { version: '1.1' }), services: Object.keys(doc.services) };
}
