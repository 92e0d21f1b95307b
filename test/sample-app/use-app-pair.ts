import { afterAll, beforeAll } from 'vitest';
import { AppProcess, secretsDir } from './app-process.js';

/**
 * Two instances of the built app on one Redis, as behind a load balancer: started (with a secrets
 * dir holding `secrets`) before the suite's tests, stopped after them. Call it after `useTopology()`
 * or `useCluster()`, so that the apps stop before Redis does. `env` is read in the hook, once
 * Redis runs. Returns a stand-in whose `app` and `other` are usable from hooks and tests.
 */
export function useAppPair(
  secrets: Record<string, string>,
  env: () => Record<string, string>,
): { readonly app: AppProcess; readonly other: AppProcess } {
  const pair: { app?: AppProcess; other?: AppProcess } = {};
  let dir: ReturnType<typeof secretsDir> | undefined;
  beforeAll(async () => {
    dir = secretsDir(secrets);
    const vars = { NODE_ENV: 'production', ...env(), SECRETS_DIR: dir.dir };
    [pair.app, pair.other] = await Promise.all([AppProcess.spawn(vars), AppProcess.spawn(vars)]);
    await Promise.all([pair.app.ready(), pair.other.ready()]);
  });
  afterAll(async () => {
    await Promise.all([pair.app?.stop(), pair.other?.stop()]);
    dir?.remove();
  });
  const started = (which: 'app' | 'other'): AppProcess => {
    const instance = pair[which];
    if (!instance) throw new Error('useAppPair(): the apps are only available inside hooks and tests');
    return instance;
  };
  return {
    get app() {
      return started('app');
    },
    get other() {
      return started('other');
    },
  };
}
