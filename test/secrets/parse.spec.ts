import { SecretsModule, SecretsService } from '@bastion/secrets';
import { registerSecretsConfig } from '@bastion/secrets/config';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { CaptureLogger } from './support/capture-logger.js';
import { boot, rejectionOf, SecretsSandbox } from './support/secrets-sandbox.js';

interface DbCredentials {
  user: string;
  password: string;
}

describe('parse', () => {
  let sandbox: SecretsSandbox;
  beforeEach(() => {
    sandbox = new SecretsSandbox();
    sandbox.env({ NODE_ENV: 'development' });
  });
  afterEach(() => sandbox.cleanup());

  const declarations = [
    { name: 'db_credentials', parse: (v: string) => JSON.parse(v) as DbCredentials },
  ] as const;

  it('exposes the parsed value and registers every string inside it for redaction', async () => {
    sandbox.file('db_credentials', '{"user":"app-user","password":"p@ss word","host":"db"}\n');
    const app = await boot(SecretsModule.forRoot({ directory: sandbox.dir, secrets: declarations }));
    const service = app.get(SecretsService);
    expect(service.getParsed<DbCredentials>('db_credentials')).toEqual({
      user: 'app-user',
      password: 'p@ss word',
      host: 'db',
    });
    expect(service.values()).toEqual(expect.arrayContaining(['app-user', 'p@ss word', 'p%40ss%20word']));
    expect(service.values()).not.toContain('db'); // too short to mask without wrecking log lines
    await app.close();
  });

  it('a parser that throws fails boot without echoing the content', async () => {
    sandbox.file('db_credentials', '{"password": "unterminated');
    const error = await rejectionOf(
      boot(SecretsModule.forRoot({ directory: sandbox.dir, secrets: declarations })),
    );
    expect(error.message).toContain('could not be parsed (the parser threw SyntaxError');
    expect(error.message).not.toContain('unterminated');
  });

  it('the config namespace serves the parsed value', async () => {
    sandbox.file('db_credentials', '{"user":"u","password":"p"}');
    const secretsConfig = registerSecretsConfig({ directory: sandbox.dir, secrets: declarations });
    const app = await NestFactory.createApplicationContext(
      { imports: [ConfigModule.forRoot({ load: [secretsConfig], ignoreEnvFile: true })] },
      { logger: new CaptureLogger(), abortOnError: false },
    );
    const credentials: DbCredentials | undefined = app.get(ConfigService).get('secrets.db_credentials');
    expect(credentials).toEqual({ user: 'u', password: 'p' });
    await app.close();
  });
});
