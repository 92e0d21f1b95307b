import { join, resolve } from 'node:path';
import { toSecretBytes } from './secret-content.js';
import { readSecretFile } from './secret-file-reader.js';
import type { SecretSource } from './secret-source.js';
import { parseSecret, validateSecret } from './secret-validation.js';
import type { ResolvedSecret, ResolvedSecretsOptions } from './secrets-options.resolver.js';

/** Result of resolving one secret. `lookedAt` lists every place consulted, for the errors. */
export type SecretResolution =
  | {
      readonly kind: 'loaded';
      readonly bytes: Buffer;
      readonly parsed: unknown;
      readonly source: SecretSource;
      /** The plain-env fallback was used while NODE_ENV=production (allowed by opt-in). */
      readonly envInProduction: boolean;
      readonly lookedAt: readonly string[];
    }
  | { readonly kind: 'missing'; readonly lookedAt: readonly string[] }
  | { readonly kind: 'invalid'; readonly reason: string; readonly lookedAt: readonly string[] };

/** Outcome of reading one file-backed source, shared by boot, rotation and health checks. */
export type SourceRead =
  | { readonly kind: 'found'; readonly bytes: Buffer; readonly parsed: unknown }
  | { readonly kind: 'missing' }
  | { readonly kind: 'empty' }
  | { readonly kind: 'invalid'; readonly reason: string };

/** Reads a file source and applies the content rules and the validator. */
export async function readFileSource(secret: ResolvedSecret, path: string): Promise<SourceRead> {
  const read = await readSecretFile(path, secret.maxBytes);
  if (read.kind !== 'found') return read;
  return checkContent(secret, read.bytes, secret.encoding);
}

function checkContent(secret: ResolvedSecret, raw: Buffer, encoding: 'utf8' | 'buffer'): SourceRead {
  const bytes = toSecretBytes(raw, encoding);
  if (bytes === undefined) return { kind: 'empty' };
  const problem = validateSecret(secret, bytes);
  if (problem !== undefined) return { kind: 'invalid', reason: problem };
  const parsed = parseSecret(secret, bytes);
  return 'reason' in parsed
    ? { kind: 'invalid', reason: parsed.reason }
    : { kind: 'found', bytes, parsed: parsed.parsed };
}

/**
 * Resolution order: `<directory>/<name>`, then `<ENV>_FILE`, then `<ENV>` (only when the plain-env
 * fallback is allowed). A source that exists but is unusable stops the search with an error: falling
 * back past a broken mount would hide the misconfiguration.
 */
export async function resolveSecret(
  secret: ResolvedSecret,
  options: ResolvedSecretsOptions,
  env: NodeJS.ProcessEnv,
): Promise<SecretResolution> {
  const lookedAt: string[] = [];
  const fileVar = secret.env && `${secret.env}_FILE`;
  const filePath = fileVar ? nonEmpty(env[fileVar]) : undefined;
  const plainSet = secret.env ? nonEmpty(env[secret.env]) !== undefined : false;

  if (filePath !== undefined && plainSet && options.envConflict === 'error') {
    return {
      kind: 'invalid',
      reason: `both ${secret.env} and ${fileVar} are set; they are exclusive (set envConflict to choose one)`,
      lookedAt: [`env ${secret.env} (set)`, `env ${fileVar} (set)`],
    };
  }

  const directoryPath = join(options.directory, secret.name);
  const fromDirectory = await readFileSource(secret, directoryPath);
  if (fromDirectory.kind === 'found') {
    return loaded(fromDirectory, { type: 'directory', location: directoryPath }, false, lookedAt);
  }
  if (fromDirectory.kind === 'invalid') {
    return { kind: 'invalid', reason: `file ${directoryPath} ${fromDirectory.reason}`, lookedAt };
  }
  lookedAt.push(`file ${directoryPath} (${fromDirectory.kind === 'empty' ? 'empty' : 'not found'})`);
  if (!secret.env || !fileVar) return { kind: 'missing', lookedAt };

  const steps =
    options.envConflict === 'prefer-env' ? (['env', 'env-file'] as const) : (['env-file', 'env'] as const);
  for (const step of steps) {
    if (step === 'env-file') {
      if (filePath === undefined) {
        lookedAt.push(`env ${fileVar} (not set)`);
        continue;
      }
      const absolute = resolve(filePath);
      const fromEnvFile = await readFileSource(secret, absolute);
      if (fromEnvFile.kind === 'found') {
        return loaded(fromEnvFile, { type: 'env-file', location: absolute }, false, lookedAt);
      }
      if (fromEnvFile.kind === 'empty') {
        lookedAt.push(`file ${absolute} from ${fileVar} (empty)`);
        continue;
      }
      // A _FILE variable that points nowhere is a deployment mistake, not an absent secret.
      const reason = fromEnvFile.kind === 'missing' ? 'does not exist' : fromEnvFile.reason;
      return { kind: 'invalid', reason: `file ${absolute} (from ${fileVar}) ${reason}`, lookedAt };
    }
    const plain = nonEmpty(env[secret.env]);
    if (plain === undefined) {
      lookedAt.push(`env ${secret.env} (not set)`);
      continue;
    }
    if (!options.allowEnvFallback) {
      lookedAt.push(
        `env ${secret.env} (set, but ignored: the plain-env fallback is off when NODE_ENV=production)`,
      );
      continue;
    }
    const raw = Buffer.from(plain, 'utf8');
    if (raw.length > secret.maxBytes) {
      return {
        kind: 'invalid',
        reason: `env ${secret.env} is larger than the ${secret.maxBytes}-byte cap`,
        lookedAt,
      };
    }
    // Env values are taken as they are: a shell never adds a newline to them.
    const fromEnv = checkContent(secret, raw, 'buffer');
    if (fromEnv.kind === 'found') {
      return loaded(fromEnv, { type: 'env', location: secret.env }, options.production, lookedAt);
    }
    if (fromEnv.kind === 'invalid') {
      return { kind: 'invalid', reason: `env ${secret.env} ${fromEnv.reason}`, lookedAt };
    }
  }
  return { kind: 'missing', lookedAt };
}

/** How to supply a secret that was found nowhere, in resolution order: paths and env var names only. */
export function howToProvide(secret: ResolvedSecret, options: ResolvedSecretsOptions): string {
  const ways = [`create the file ${join(options.directory, secret.name)}`];
  if (secret.env) {
    ways.push(`set ${secret.env}_FILE to the path of a file that holds it`);
    // Offered only where it would be read: production ignores it unless allowEnvFallback is on.
    if (options.allowEnvFallback) {
      ways.push(
        `set ${secret.env}${options.production ? '' : ' (for development; use a file in production)'}`,
      );
    }
  }
  return ways.join(', or ');
}

function loaded(
  found: { readonly bytes: Buffer; readonly parsed: unknown },
  source: SecretSource,
  envInProduction: boolean,
  lookedAt: string[],
): SecretResolution {
  return { kind: 'loaded', bytes: found.bytes, parsed: found.parsed, source, envInProduction, lookedAt };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
