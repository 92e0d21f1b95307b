/**
 * ioredis attaches the failed command to an error: for the connection handshake that is HELLO/AUTH
 * with the password. Listeners log error objects whole, so every argument is replaced, in place,
 * before the error is handed on.
 */
export function redactCommandArguments(error: Error): void {
  const command = (error as { command?: { args?: unknown[] } }).command;
  if (Array.isArray(command?.args)) command.args = command.args.map(() => '[redacted]');
}
