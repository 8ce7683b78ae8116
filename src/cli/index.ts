import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import type { Logger } from 'winston';
import { startHub } from '../hub.ts';
import { checkConfig, type TargetReach } from '../config/check.ts';
import { configJsonSchema } from '../config/json-schema.ts';
import { builtinAdapters } from '../../adapters/index.ts';
import { formatFileResult, formatSummary, loadGoldenConfig, runGoldenTests, type GoldenConfig } from '../mapping/golden/index.ts';
import { scaffoldAdapter } from '../sdk/scaffold.ts';
import { userInfo } from 'node:os';
import { parseReplayFilter, replayByFilter } from '../delivery/replay.ts';
import { registerReconcileCommand } from './reconcile.ts';
import { registerPruneCommand } from './prune.ts';
import { registerTargetsCommand } from './targets.ts';
import { loadConfigIfPresent, openConfiguredStore, withDatabaseOptions, type DatabaseCommandOptions } from './database.ts';
import { systemClock } from '../clock.ts';

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

const program = new Command();
program.name('amtsbote').description('Connector hub between municipal service portals and back-office systems').version('0.1.0');

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port number from 0 to 65535');
  return n;
}

program
  .command('start')
  .description('run the hub: intake API, delivery worker, schedules (and the demo simulators the configuration names)')
  .option('-c, --config <dir>', 'configuration folder (env AMTSBOTE_CONFIG)', process.env.AMTSBOTE_CONFIG ?? './config')
  .option('-d, --data <dir>', 'data folder: SQLite database and logs (env AMTSBOTE_DATA)', process.env.AMTSBOTE_DATA ?? './data')
  .option('-p, --port <n>', 'HTTP port (env AMTSBOTE_PORT; default: server.port of the configuration, 3000)', port)
  .option('--database-url <url>', 'PostgreSQL instead of SQLite: postgres://… (env AMTSBOTE_DATABASE_URL)', process.env.AMTSBOTE_DATABASE_URL)
  .option('--database-schema <name>', 'PostgreSQL schema to use (created if missing), e.g. one per test run (env AMTSBOTE_DATABASE_SCHEMA)', process.env.AMTSBOTE_DATABASE_SCHEMA)
  .option('--no-simulators', 'do not start the demo back-office simulators')
  .action(async (o: { config: string; data: string; port?: number; databaseUrl?: string; databaseSchema?: string; simulators: boolean }) => {
    // The environment's port is read here, not at definition, so a bad value cannot break other commands.
    let envPort: number | undefined;
    try {
      envPort = process.env.AMTSBOTE_PORT ? port(process.env.AMTSBOTE_PORT) : undefined;
    } catch {
      throw new Error(`AMTSBOTE_PORT must be a port number from 0 to 65535`);
    }
    const hub = await startHub({ configDir: path.resolve(o.config), dataDir: path.resolve(o.data), port: o.port ?? envPort, databaseUrl: o.databaseUrl, databaseSchema: o.databaseSchema, simulators: o.simulators });
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
  });

const config = program.command('config').description('work with the configuration');
config
  .command('check')
  .description("validate a configuration folder as start does: schema, references, mappings, and every target's adapter built (WSDL, operation, XSD, certificate and key files) without contacting a back office; exit 1 on errors")
  .argument('[dir]', 'configuration folder', process.env.AMTSBOTE_CONFIG ?? './config')
  .option('--connect', "also run each target's check(): reachable, refused (credentials) or unreachable; exit 1 unless all are reachable")
  .option('--json', 'print the result as JSON')
  .action(async (dir: string, o: { connect?: boolean; json?: boolean }) => {
    const result = await checkConfig(path.resolve(dir), process.env, { connect: Boolean(o.connect), clock: systemClock });
    const failed = !result.ok || (result.targets ?? []).some((t) => t.result !== 'reachable');
    if (failed) process.exitCode = 1;
    if (o.json) {
      console.log(JSON.stringify({ dir, ...result }, null, 2));
      return;
    }
    if (!result.ok) {
      console.error(`${dir}: ${result.problems.length} problem${result.problems.length > 1 ? 's' : ''}`);
      for (const p of result.problems) console.error('  ' + p);
    } else {
      console.log(`${dir}: ok — ${result.summary}`);
    }
    for (const w of result.warnings) console.error(`  warning: ${w}`);
    if (result.ok && result.targets) console.log('\n' + formatReachTable(result.targets));
  });
config
  .command('schema')
  .description("print (or write) the configuration's JSON Schema, for editors that complete and check YAML")
  .option('-o, --out <file>', 'write to a file instead of stdout')
  .action((o: { out?: string }) => {
    const text = JSON.stringify(configJsonSchema(), null, 2) + '\n';
    if (o.out) writeFileSync(o.out, text);
    else process.stdout.write(text);
  });

const mapping = program.command('mapping').description('work with mappings');
mapping
  .command('test')
  .description('run the golden cases (*.cases.yaml) of the mappings; exit 1 on any failure')
  .argument('[paths...]', 'case files, .jsonata files or folders (default: the configured mappings folder)')
  .option('-c, --config <dir>', 'configuration folder: tenants, services, routes, paths.mappings (env AMTSBOTE_CONFIG)', process.env.AMTSBOTE_CONFIG ?? './config')
  .option('-g, --grep <pattern>', 'only cases whose name matches this regular expression')
  .option('-u, --update', 'write the actual output as the expectation of every case that differs (expectedFile or inline expected); review with git diff')
  .action(async (paths: string[], o: { config: string; grep?: string; update?: boolean }, cmd: Command) => {
    const configDir = path.resolve(o.config);
    let config: GoldenConfig | undefined;
    // Without paths the configuration says where mappings are, so it must be there. With paths it only
    // enriches the input (tenant names, routes); a missing default folder is then no reason to stop.
    const explicit = cmd.getOptionValueSource('config') !== 'default';
    if (paths.length === 0 || explicit || existsSync(configDir)) config = loadGoldenConfig(configDir);
    else console.log(`(no configuration at ${o.config}: inputs carry only tenant and service keys)`);
    const targets = paths.length ? paths : [config!.mappingsDir];
    let grep: RegExp | undefined;
    try {
      grep = o.grep ? new RegExp(o.grep) : undefined;
    } catch {
      throw new InvalidArgumentError(`--grep: not a regular expression: ${o.grep}`);
    }
    const report = await runGoldenTests({
      paths: targets,
      config,
      grep,
      update: o.update === true,
      adapterFormats: new Map([...builtinAdapters].map(([type, a]) => [type, a.defaultFormat])),
      onFile: (r) => console.log(formatFileResult(r).join('\n') + '\n'),
    });
    if (report.files.length === 0) {
      console.error(`no golden cases (*.cases.yaml) under ${targets.map((t) => path.relative(process.cwd(), path.resolve(t)) || '.').join(', ')}${grep ? ` matching ${grep}` : ''}`);
      process.exitCode = 1;
      return;
    }
    console.log(formatSummary(report));
    if (o.update) {
      // What changed on disk, for the review in git; files whose cases passed were not touched.
      const shown = report.written.map((f) => path.relative(process.cwd(), f) || f);
      console.log(shown.length ? `wrote ${shown.length} file${shown.length === 1 ? '' : 's'} (review with git diff):\n${shown.map((f) => `  ${f}`).join('\n')}` : 'wrote nothing: every expectation matched');
    }
    if (report.failed) process.exitCode = 1;
  });

const adapter = program.command('adapter').description('work with adapters');
adapter
  .command('new')
  .description('scaffold an adapter: index.ts (options, deliver, check), a conformance test, README.md')
  .argument('<name>', 'the adapter type: lower-case letters, digits and dashes, e.g. acme-dms')
  .option('--dir <dir>', 'the adapters folder to create it in', 'adapters')
  .action((name: string, o: { dir: string }) => {
    const r = scaffoldAdapter(name, path.resolve(o.dir), { knownTypes: [...builtinAdapters.keys()] });
    const rel = (f: string) => path.relative(process.cwd(), f) || '.';
    console.log(`created ${rel(r.dir)}/`);
    for (const f of r.files) console.log(`  ${rel(f.path).padEnd(Math.max(...r.files.map((x) => rel(x.path).length)) + 2)}${f.what}`);
    console.log('\nnext steps:\n' + r.nextSteps.map((l) => '  ' + l).join('\n'));
  });

const replay = program
  .command('replay')
  .description('put failed deliveries back in the queue (same idempotency key), by id or by filter; filters are AND-ed')
  .argument('[deliveryIds...]', 'the deliveries to replay')
  .option('--target <id>', 'failed deliveries to this target')
  .option('--tenant <ags>', 'failed deliveries of this tenant')
  .option('--error-kind <kind>', 'failed deliveries whose last error is of this kind, e.g. http-400')
  .option('--since <iso>', 'failed at or after this time (ISO 8601)')
  .option('--until <iso>', 'failed before this time (ISO 8601)')
  .option('--dry-run', 'list what would be replayed, change nothing')
  .option('--by <name>', 'who replays, for the sync log (default: the OS user)')
  .option('--reason <text>', 'why, for the sync log');
withDatabaseOptions(replay).action(
  async (ids: string[], o: DatabaseCommandOptions & { target?: string; tenant?: string; errorKind?: string; since?: string; until?: string; dryRun?: boolean; by?: string; reason?: string }) => {
    const hasFilter = [o.target, o.tenant, o.errorKind, o.since, o.until].some((v) => v !== undefined);
    if (ids.length && hasFilter) throw new InvalidArgumentError('give delivery ids or a filter, not both');
    if (!ids.length && !hasFilter) throw new InvalidArgumentError('give delivery ids or at least one of --target, --tenant, --error-kind, --since, --until');
    const parsed = hasFilter ? parseReplayFilter({ target: o.target, tenant: o.tenant, errorKind: o.errorKind, since: o.since, until: o.until }) : undefined;
    if (parsed && !parsed.ok) {
      const flag = (f: string) => '--' + f.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
      throw new InvalidArgumentError(parsed.problems.map((p) => (p.field ? `${flag(p.field)}: ${p.detail}` : p.detail)).join('; '));
    }
    // Only the database setting is needed; without a configuration folder the data folder's SQLite is used.
    const store = await openConfiguredStore(o, o.databaseUrl ? undefined : await loadConfigIfPresent(o));
    try {
      const by = o.by ?? osUser();
      // A process of its own: its one reading of the machine's clock.
      const now = systemClock();
      const iso = (ms: number) => new Date(ms).toISOString();
      if (parsed?.ok) {
        const r = await replayByFilter(store, parsed.filter, { dryRun: Boolean(o.dryRun), by, reason: o.reason, now });
        const outcome = new Map(r.results.map((x) => [x.id, x.outcome]));
        for (const d of r.matched) console.log([d.id, d.targetId, d.tenant, d.errorKind ?? '-', iso(d.failedAt), ...(o.dryRun ? [] : [outcome.get(d.id) ?? 'not-found'])].join('\t'));
        const replayed = r.results.filter((x) => x.outcome === 'replayed').length;
        console.log(o.dryRun ? `dry run: ${r.matched.length} failed deliver${r.matched.length === 1 ? 'y' : 'ies'} would be replayed${r.truncated ? ' (more match: run again)' : ''}` : `replayed ${replayed} of ${r.matched.length} failed deliver${r.matched.length === 1 ? 'y' : 'ies'} by ${by}${r.truncated ? ' (more match: run again)' : ''}`);
        return;
      }
      if (o.dryRun) {
        const state = await store.deliveryStates(ids);
        for (const id of ids) console.log(`${id}\t${state.get(id) === 'failed' ? 'would be replayed' : state.has(id) ? `not failed (${state.get(id)})` : 'not found'}`);
        const n = ids.filter((id) => state.get(id) === 'failed').length;
        console.log(`dry run: ${n} of ${ids.length} would be replayed`);
        return;
      }
      const results = await store.replay(ids, by, o.reason, now);
      for (const r of results) console.log(`${r.id}\t${r.outcome === 'replayed' ? 'replayed (queued)' : r.outcome === 'not-failed' ? `not failed (${r.state ?? '?'}): left alone` : 'not found'}`);
      const replayed = results.filter((r) => r.outcome === 'replayed').length;
      console.log(`replayed ${replayed} of ${results.length} by ${by}; a running hub picks them up at its next poll`);
      if (replayed < results.length) process.exitCode = 1;
    } finally {
      await store.close();
    }
  });

registerReconcileCommand(program);
registerPruneCommand(program);
registerTargetsCommand(program);

/** `config check --connect`: one line per target, then how many are reachable. */
function formatReachTable(rows: TargetReach[]): string {
  const head: TargetReach = { target: 'target', adapter: 'adapter', result: 'result' as TargetReach['result'], message: 'message' };
  const width = (k: 'target' | 'adapter' | 'result') => Math.max(...[head, ...rows].map((r) => r[k].length));
  const line = (r: TargetReach) => [r.target.padEnd(width('target')), r.adapter.padEnd(width('adapter')), r.result.padEnd(width('result')), r.message].join('  ');
  const reachable = rows.filter((r) => r.result === 'reachable').length;
  return [line(head), ...rows.map(line), '', `${reachable} of ${rows.length} target${rows.length === 1 ? '' : 's'} reachable`].join('\n');
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

program.parseAsync(process.argv).catch((e: Error) => {
  // Configuration errors are for people: print them, not a stack.
  console.error(e.name === 'ConfigError' ? e.message : `amtsbote: ${e.message}`);
  process.exit(1);
});
