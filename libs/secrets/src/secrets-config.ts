import { inspect } from 'node:util';
import { registerAs } from '@nestjs/config';
import type { SecretDeclaration } from './secret-declaration.interface.js';
import { SecretStore } from './secret-store.js';
import type { SecretsModuleOptions } from './secrets-options.interface.js';
import { resolveSecretsOptions } from './secrets-options.resolver.js';

/** The namespace object: one key per declared name; the `parse` result if any, a Buffer for `encoding: 'buffer'`. */
export type SecretsConfig<T extends readonly SecretDeclaration[]> = {
  readonly [D in T[number] as D['name']]: D extends { parse: (...args: never[]) => infer R }
    ? R | undefined
    : D['encoding'] extends 'buffer'
      ? Buffer | undefined
      : string | undefined;
};

/**
 * A `@nestjs/config` namespace holding the secrets (from the subpath `@bastion/secrets/config`, so the
 * main entry never loads `@nestjs/config`):
 *
 * ```ts
 * import { registerSecretsConfig } from '@bastion/secrets/config';
 * const secretsConfig = registerSecretsConfig({ secrets: appSecrets });
 * ConfigModule.forRoot({ load: [secretsConfig] });
 * config.get('secrets.redis_password');                       // or
 * @Inject(secretsConfig.KEY) cfg: ConfigType<typeof secretsConfig>
 * ```
 *
 * Its options are checked here, with the same rules and the same aggregated `SecretsConfigError` as
 * `SecretsModule`; do not
 * route secrets through ConfigModule's `validate`/`validationSchema`, which copy values into
 * `process.env`. Values are a boot-time snapshot (rotation needs `SecretsService`). The namespace
 * object's keys are non-enumerable getters and it prints as names only, so dumping the config does
 * not dump the secrets.
 */
export function registerSecretsConfig<
  const T extends readonly SecretDeclaration[],
  const N extends string = 'secrets',
>(options: SecretsModuleOptions & { readonly secrets: T }, namespace: N = 'secrets' as N) {
  resolveSecretsOptions(options);
  return registerAs(namespace, async (): Promise<SecretsConfig<T>> => {
    const store = await SecretStore.load(resolveSecretsOptions({ ...options, rotation: false }));
    return createNamespace(store) as SecretsConfig<T>;
  });
}

function createNamespace(store: SecretStore): object {
  const namespace = {};
  for (const secret of store.options.secrets) {
    const read = secret.parse
      ? () => store.getParsed(secret.name)
      : secret.encoding === 'buffer'
        ? () => store.getBuffer(secret.name)
        : () => store.get(secret.name);
    Object.defineProperty(namespace, secret.name, { enumerable: false, get: read });
  }
  const describe = () =>
    `SecretsConfig(${store
      .describe()
      .map((s) => s.name)
      .join(', ')})`;
  Object.defineProperties(namespace, {
    toString: { value: describe, enumerable: false },
    toJSON: { value: () => ({ secrets: store.describe() }), enumerable: false },
    [inspect.custom]: { value: describe, enumerable: false },
  });
  return Object.freeze(namespace);
}
