import * as v from 'valibot';
import {
  DEFAULT_MAX_SECRET_BYTES,
  DEFAULT_ROTATION_DEBOUNCE_MS,
  DEFAULT_ROTATION_POLL_MS,
  DEFAULT_SECRETS_DIRECTORY,
} from './secrets.constants.js';
import { SecretsConfigError } from './secrets.errors.js';
import type { SecretDeclaration, SecretValidationResult } from './secret-declaration.interface.js';
import { defaultEnvName, envNameProblem, secretNameProblem, shown } from './secret-name.js';
import type { EnvConflictPolicy, SecretsModuleOptions } from './secrets-options.interface.js';

/** A declaration with every default applied. Internal. */
export interface ResolvedSecret {
  readonly name: string;
  readonly required: boolean;
  readonly env: string | undefined;
  readonly encoding: 'utf8' | 'buffer';
  readonly maxBytes: number;
  readonly validate: ((value: string, bytes: Buffer) => SecretValidationResult) | undefined;
  readonly parse: ((value: string, bytes: Buffer) => unknown) | undefined;
}

/** Module options with every default applied, frozen. Internal: what the providers inject. */
export interface ResolvedSecretsOptions {
  readonly secrets: readonly ResolvedSecret[];
  readonly directory: string;
  readonly envConflict: EnvConflictPolicy;
  readonly production: boolean;
  readonly allowEnvFallback: boolean;
  readonly rotation:
    { readonly watch: boolean; readonly pollIntervalMs: number; readonly debounceMs: number } | undefined;
}

// ------------------------------------------------------------------------------------------ schema
// Each message is the rest of a problem line after the option's path: what is wrong, the value given
// (options hold names and paths, never secret values) and an example of a valid one.

const got = (issue: v.BaseIssue<unknown>): string => shown(issue.input);

const boolean = (example: string) =>
  v.optional(v.boolean((i) => `must be true or false (got ${got(i)}); e.g. ${example}`));

const func = (example: string) =>
  v.optional(v.function((i) => `must be a function (got ${got(i)}); e.g. ${example}`));

function integer(min: 0 | 1, example: string) {
  const rule = min === 1 ? 'a positive integer' : 'a non-negative integer';
  const message = (i: v.BaseIssue<unknown>) => `must be ${rule} (got ${got(i)}); e.g. ${example}`;
  return v.optional(
    v.pipe(
      v.number(message),
      v.check((n) => Number.isInteger(n) && n >= min, message),
    ),
  );
}

const declarationSchema = v.looseObject(
  {
    name: v.custom<string>(
      (name) => secretNameProblem(name) === undefined,
      (i) => secretNameProblem(i.input)!,
    ),
    required: boolean('true, or process.env.NODE_ENV === "production"'),
    env: v.optional(
      v.custom<string | false>(
        (env) => envNameProblem(env) === undefined,
        (i) => envNameProblem(i.input)!,
      ),
    ),
    encoding: v.optional(
      v.picklist(
        ['utf8', 'buffer'],
        (i) => `must be "utf8" or "buffer" (got ${got(i)}); e.g. "buffer" for a binary secret`,
      ),
    ),
    maxBytes: integer(1, '65536'),
    validate: func("(v) => v.length >= 32 || 'must be at least 32 characters'"),
    parse: func('JSON.parse'),
  },
  (i) => `must be a declaration object (got ${got(i)}); e.g. { name: 'redis_password' }`,
);

const secretsSchema = v.array(
  declarationSchema,
  (i) => `must be an array of declarations (got ${got(i)}); e.g. [{ name: 'redis_password' }]`,
);

const optionsSchema = v.looseObject(
  {
    secrets: secretsSchema,
    directory: v.optional(
      v.pipe(
        v.string((i) => `must be a directory path (got ${got(i)}); e.g. "/run/secrets"`),
        v.nonEmpty('must not be empty; e.g. "/run/secrets", or leave it unset for that default'),
      ),
    ),
    envConflict: v.optional(
      v.picklist(
        ['error', 'prefer-file', 'prefer-env'],
        (i) => `must be "error", "prefer-file" or "prefer-env" (got ${got(i)}); e.g. "prefer-file"`,
      ),
    ),
    allowEnvFallback: boolean('false'),
    maxBytes: integer(1, '65536'),
    rotation: v.optional(
      v.union(
        [
          v.boolean(),
          v.looseObject({
            watch: boolean('true'),
            pollIntervalMs: integer(0, '60000, or 0 to turn polling off'),
            debounceMs: integer(0, '100'),
          }),
        ],
        (i) => `must be true, false or { watch, pollIntervalMs, debounceMs } (got ${got(i)}); e.g. true`,
      ),
    ),
  },
  (i) =>
    `must be an object with the secrets to load (got ${got(i)}); e.g. { secrets: [{ name: 'redis_password' }] }`,
);

/** What to write for an option that is missing although required. */
const MISSING: Record<string, string> = {
  secrets: "is missing; e.g. [{ name: 'redis_password' }]",
  name: 'is missing; e.g. "redis_password"',
};

/**
 * A valibot issue as one problem line: the option's path (`secrets[1].name`, `rotation.debounceMs`)
 * then the message. Never `path:` — a logger's key=value rule would mask the words after a key such as
 * `redis_password:` and hide what is wrong.
 */
function problemLine(issue: v.BaseIssue<unknown>, prefix: string): string {
  const keys = (issue.path ?? []).map((item) => item.key as string | number);
  let path = prefix;
  for (const key of keys) path = typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
  const last = keys.at(-1);
  const isObjectIssue = issue.type === 'loose_object' || issue.type === 'object';
  if (isObjectIssue && issue.input === undefined && typeof last === 'string' && last in MISSING) {
    return `${path} ${MISSING[last]}`;
  }
  return `${path || 'options'} ${issue.message}`;
}

function schemaProblems(schema: v.GenericSchema, input: unknown, prefix: string): string[] {
  const result = v.safeParse(schema, input, { abortEarly: false, abortPipeEarly: true });
  return result.success ? [] : result.issues.map((issue) => problemLine(issue, prefix));
}

/** Problems that span several declarations: a name declared twice. */
function duplicateProblems(secrets: readonly SecretDeclaration[]): string[] {
  const first = new Map<string, number>();
  const problems: string[] = [];
  secrets.forEach((declaration, index) => {
    const name = declaration?.name;
    if (typeof name !== 'string') return;
    const earlier = first.get(name);
    if (earlier === undefined) first.set(name, index);
    else {
      problems.push(
        `secrets[${index}].name ${shown(name)} is declared twice (also secrets[${earlier}]); remove one of them`,
      );
    }
  });
  return problems;
}

/** Every problem of a declaration list, one line each (empty when it is valid). */
export function declarationProblems(secrets: unknown): string[] {
  const problems = schemaProblems(secretsSchema, secrets, 'secrets');
  return Array.isArray(secrets) ? [...problems, ...duplicateProblems(secrets)] : problems;
}

/**
 * Checks every declaration (names, env names, types, duplicates, limits) and throws one
 * `SecretsConfigError` listing every problem. Called by `defineSecrets()`.
 */
export function assertValidDeclarations(secrets: readonly SecretDeclaration[]): void {
  const problems = declarationProblems(secrets);
  if (problems.length > 0) throw new SecretsConfigError(problems);
}

/** Every problem of the module options, one line each (empty when they are valid). */
export function secretsOptionsProblems(options: unknown): string[] {
  const problems = schemaProblems(optionsSchema, options, '');
  const given = options as Partial<SecretsModuleOptions> | null | undefined;
  if (Array.isArray(given?.secrets)) problems.push(...duplicateProblems(given.secrets));
  if (given !== null && typeof given === 'object' && 'healthTimeoutMs' in given) {
    problems.push(
      'healthTimeoutMs is no longer a module option; pass the deadline per check instead, ' +
        "e.g. isHealthy('secrets', { timeoutMs: 500 })",
    );
  }
  return problems;
}

/**
 * Applies the defaults to the module options and checks every option, once: throws one
 * `SecretsConfigError` listing every problem (an invalid value is never replaced by a default;
 * `undefined` means "use the default"). The result is frozen.
 */
export function resolveSecretsOptions(
  options: SecretsModuleOptions,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedSecretsOptions {
  const problems = secretsOptionsProblems(options);
  if (problems.length > 0) throw new SecretsConfigError(problems);
  const production = env.NODE_ENV === 'production';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_SECRET_BYTES;
  const rotation = options.rotation === true ? {} : options.rotation || undefined;
  return Object.freeze({
    secrets: Object.freeze(
      options.secrets.map((declaration) =>
        Object.freeze({
          name: declaration.name,
          required: declaration.required ?? false,
          env: declaration.env === false ? undefined : (declaration.env ?? defaultEnvName(declaration.name)),
          encoding: declaration.encoding ?? 'utf8',
          maxBytes: declaration.maxBytes ?? maxBytes,
          validate: declaration.validate,
          parse: declaration.parse,
        }),
      ),
    ),
    directory: options.directory ?? DEFAULT_SECRETS_DIRECTORY,
    envConflict: options.envConflict ?? 'error',
    production,
    allowEnvFallback: options.allowEnvFallback ?? !production,
    rotation:
      rotation &&
      Object.freeze({
        watch: rotation.watch ?? true,
        pollIntervalMs: rotation.pollIntervalMs ?? DEFAULT_ROTATION_POLL_MS,
        debounceMs: rotation.debounceMs ?? DEFAULT_ROTATION_DEBOUNCE_MS,
      }),
  });
}
