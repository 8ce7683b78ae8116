import path from 'node:path';
import type { Logger } from 'winston';
import { startHub } from '../hub.ts';
import { startDemo } from '../demo/start.ts';
import { parsePort } from './port.ts';

export interface StartCommandOptions {
  config: string;
  data: string;
  port?: number;
  databaseUrl?: string;
  databaseSchema?: string;
  simulators: boolean;
}

/** `amtsbote start`: the demo simulators the configuration names (unless --no-simulators), then the hub, until a signal. */
export async function start(o: StartCommandOptions): Promise<void> {
  // The environment's port is read here, not at definition, so a bad value cannot break other commands.
  let envPort: number | undefined;
  try {
    envPort = process.env.AMTSBOTE_PORT ? parsePort(process.env.AMTSBOTE_PORT) : undefined;
  } catch {
    throw new Error(`AMTSBOTE_PORT must be a port number from 0 to 65535`);
  }
  const hub = await startHub({
    configDir: path.resolve(o.config),
    dataDir: path.resolve(o.data),
    port: o.port ?? envPort,
    databaseUrl: o.databaseUrl,
    databaseUrlOnCommandLine: process.argv.some((a) => a === '--database-url' || a.startsWith('--database-url=')),
    databaseSchema: o.databaseSchema,
    alongside: o.simulators ? startDemo : undefined,
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    hub.logger.info('stopping', { signal });
    hub.close().then(
      () => flushAndExit(hub.logger, 0),
      () => flushAndExit(hub.logger, 1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** Exits once the log transports have written everything, so the last lines reach the file too. */
function flushAndExit(logger: Logger, code: number): void {
  const timer = setTimeout(() => process.exit(code), 2000);
  logger.on('finish', () => {
    clearTimeout(timer);
    // The file transport reports finish slightly before its stream is flushed.
    setTimeout(() => process.exit(code), 50);
  });
  logger.end();
}
