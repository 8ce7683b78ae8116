// The `amtsbote` command: this file only declares the commands and their options. Each action imports its
// command's module when it runs, so `--help`, `--version` and every command load only what they use.
import { Command } from 'commander';
import { withDatabaseOptions } from './database.ts';
import { parsePort } from './port.ts';
import { maskPasswordInProcessTitle } from '../config/database-password.ts';

// A password in --database-url has been in the process list since the start; from here on `ps` shows it masked.
maskPasswordInProcessTitle(process.argv);

const program = new Command();
program.name('amtsbote').description('Connector hub between municipal service portals and back-office systems').version('0.1.0');

program
  .command('start')
  .description('run the hub: intake API, delivery worker, schedules (and the demo simulators the configuration names)')
  .option('-c, --config <dir>', 'configuration folder (env AMTSBOTE_CONFIG)', process.env.AMTSBOTE_CONFIG ?? './config')
  .option('-d, --data <dir>', 'data folder: SQLite database and logs (env AMTSBOTE_DATA)', process.env.AMTSBOTE_DATA ?? './data')
  .option('-p, --port <n>', 'HTTP port (env AMTSBOTE_PORT; default: server.port of the configuration, 3000)', parsePort)
  .option(
    '--database-url <url>',
    'PostgreSQL instead of SQLite: postgres://… (env AMTSBOTE_DATABASE_URL)',
    process.env.AMTSBOTE_DATABASE_URL,
  )
  .option(
    '--database-schema <name>',
    'PostgreSQL schema to use (created if missing), e.g. one per test run (env AMTSBOTE_DATABASE_SCHEMA)',
    process.env.AMTSBOTE_DATABASE_SCHEMA,
  )
  .option('--no-simulators', 'do not start the demo back-office simulators')
  .action(async (o) => (await import('./start.ts')).start(o));

const config = program.command('config').description('work with the configuration');
config
  .command('check')
  .description(
    "validate a configuration folder as start does: schema, references, mappings, and every target's adapter built (WSDL, operation, XSD, certificate and key files) without contacting a back office; exit 1 on errors",
  )
  .argument('[dir]', 'configuration folder', process.env.AMTSBOTE_CONFIG ?? './config')
  .option('--connect', "also run each target's check(): reachable, refused (credentials) or unreachable; exit 1 unless all are reachable")
  .option('--json', 'print the result as JSON')
  .option(
    '-d, --data <dir>',
    "with --connect: the hub's data folder, whose audit trail records the check (env AMTSBOTE_DATA)",
    process.env.AMTSBOTE_DATA ?? './data',
  )
  .option(
    '--database-url <url>',
    'with --connect: the PostgreSQL database whose audit trail records it (env AMTSBOTE_DATABASE_URL)',
    process.env.AMTSBOTE_DATABASE_URL,
  )
  .option('--database-schema <name>', 'PostgreSQL schema (env AMTSBOTE_DATABASE_SCHEMA)', process.env.AMTSBOTE_DATABASE_SCHEMA)
  .action(async (dir: string, o) => (await import('./config-check.ts')).configCheck(dir, o));
config
  .command('schema')
  .description("print (or write) the configuration's JSON Schema, for editors that complete and check YAML")
  .option('-o, --out <file>', 'write to a file instead of stdout')
  .action(async (o) => (await import('./config-schema.ts')).configSchema(o));

const mapping = program.command('mapping').description('work with mappings');
mapping
  .command('test')
  .description('run the golden cases (*.cases.yaml) of the mappings; exit 1 on any failure')
  .argument('[paths...]', 'case files, .jsonata files or folders (default: the configured mappings folder)')
  .option(
    '-c, --config <dir>',
    'configuration folder: tenants, services, routes, paths.mappings (env AMTSBOTE_CONFIG)',
    process.env.AMTSBOTE_CONFIG ?? './config',
  )
  .option('-g, --grep <pattern>', 'only cases whose name matches this regular expression')
  .option(
    '-u, --update',
    'write the actual output as the expectation of every case that differs (expectedFile or inline expected); review with git diff',
  )
  .action(async (paths: string[], o, cmd: Command) =>
    (await import('./mapping-test.ts')).mappingTest(paths, { ...o, configGiven: cmd.getOptionValueSource('config') !== 'default' }),
  );

const adapter = program.command('adapter').description('work with adapters');
adapter
  .command('new')
  .description('scaffold an adapter: index.ts (options, deliver, check), a conformance test, README.md')
  .argument('<name>', 'the adapter type: lower-case letters, digits and dashes, e.g. acme-dms')
  .option('--dir <dir>', 'the adapters folder to create it in', 'adapters')
  .action(async (name: string, o) => (await import('./adapter-new.ts')).adapterNew(name, o));

withDatabaseOptions(
  program
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
    .option('--reason <text>', 'why, for the sync log'),
).action(async (ids: string[], o) => (await import('./replay.ts')).replay(ids, o));

const reconcile = withDatabaseOptions(
  program
    .command('reconcile')
    .description(
      'run a reconciliation now against the configured database (no HTTP) and print its report; exit 0 when clean, 1 with discrepancies, 2 when the run failed or the arguments are wrong, 3 when a back office or portal could not be read (partial)',
    )
    .option('--target <id>', 'only this target')
    .option('--tenant <ags>', 'only deliveries of this tenant (a 5-digit district key includes its municipalities)')
    .option('--since <iso>', "compare deliveries from this time on (default: each target's lookbackDays)")
    .option('--stuck-after <minutes>', 'open deliveries this long past due count as stuck', '15')
    .option('--json', 'print the persisted run as JSON'),
).action(async (o) => (await import('./reconcile.ts')).reconcile(o));
// The subcommands take the database options (and --json) of `reconcile` itself, given before or after them.
reconcile
  .command('show')
  .description('print a recorded run: its report, or --json / --csv for the whole export')
  .argument('<runId>', 'the run')
  .option('--csv', 'the discrepancies as CSV')
  .action(async (runId: string, _o, cmd: Command) => (await import('./reconcile.ts')).reconcileShow(runId, cmd.optsWithGlobals()));
reconcile
  .command('confirm')
  .description('re-deliver cases a run found missing in the back office and left to an operator (redeliver: ask)')
  .argument('[discrepancyIds...]', 'the findings (#id in the report)')
  .option('--run <id>', 'every finding of this run that awaits an operator')
  .option('--by <name>', 'who confirms, for the sync log (default: the OS user)')
  .option('--reason <text>', 'why, for the sync log')
  .action(async (ids: string[], _o, cmd: Command) => (await import('./reconcile.ts')).reconcileConfirm(ids, cmd.optsWithGlobals()));

withDatabaseOptions(
  program
    .command('prune')
    .description(
      'delete old reconciliation runs and finished portal status updates now, as the prune schedule would; prints the rows deleted per table',
    )
    .option('--dry-run', 'count what would be deleted, delete nothing')
    .option('--json', 'print the counts as JSON'),
).action(async (o) => (await import('./prune.ts')).prune(o));

withDatabaseOptions(
  program
    .command('purge')
    .description(
      'apply the retention of form data now, as the prune schedule does: deletes the form data and attachments of submissions whose deliveries all became final more than `retention` days ago; keeps their timeline',
    )
    .option('--dry-run', 'count per tenant and service what would be deleted, delete nothing')
    .option('--json', 'print the counts as JSON'),
).action(async (o) => (await import('./purge.ts')).purge(o));

withDatabaseOptions(
  program
    .command('targets')
    .description("show each target's circuit breaker, rate limit, delivery window and queue, across all instances (as GET /api/v1/targets)")
    .argument('[id]', 'only this target')
    .option('--json', 'print the targets as JSON, as the API does'),
).action(async (id: string | undefined, o) => (await import('./targets.ts')).targets(id, o));

const audit = program.command('audit').description('the audit trail of operator and admin actions (chained, append-only)');
withDatabaseOptions(
  audit
    .command('export')
    .description("print the trail as JSON lines, oldest first, with each record's hash and its predecessor's")
    .option('--tenant <keys>', 'only records of these tenants, comma-separated (a district key includes its towns)')
    .option('--since <iso>', 'records at or after this time (ISO 8601)')
    .option('--until <iso>', 'records before this time (ISO 8601)'),
).action(async (o) => (await import('./audit.ts')).auditExport(o));
withDatabaseOptions(
  audit
    .command('verify')
    .description('re-compute the hash chain; exit 1 and name the first broken record when it does not hold')
    .option('--json', 'print the verdict as JSON'),
).action(async (o) => (await import('./audit.ts')).auditVerify(o));

const user = program.command('user').description('local accounts of the operator console (the first admin is created here)');
withDatabaseOptions(
  user
    .command('add')
    .description(`create an account; the password from env AMTSBOTE_NEW_PASSWORD or stdin (asked at a terminal), never an argument`)
    .argument('<name>', 'the login name')
    .requiredOption('--role <role>', 'viewer (reads), operator (replay, confirm, check) or admin (form data, accounts)')
    .requiredOption('--tenants <keys>', 'tenant keys, comma-separated (a district key covers its towns), or * for all'),
).action(async (name: string, o) => (await import('./user.ts')).userAdd(name, o));
withDatabaseOptions(user.command('list').description('list the accounts').option('--json', 'as JSON')).action(async (o) =>
  (await import('./user.ts')).userList(o),
);
withDatabaseOptions(user.command('remove').description('remove an account and end its sessions').argument('<name>')).action(
  async (name: string, o) => (await import('./user.ts')).userRemove(name, o),
);
withDatabaseOptions(
  user.command('passwd').description('set a new password (env AMTSBOTE_NEW_PASSWORD or stdin); ends its sessions').argument('<name>'),
).action(async (name: string, o) => (await import('./user.ts')).userPasswd(name, o));
const keys = program.command('keys').description('keys for encryption at rest (docs/keys.md)');
keys
  .command('generate')
  .description(
    'add a fresh data key (or --index key) to its key file as the current one, older keys kept for reading; prints its id, never the key',
  )
  .option('-d, --data <dir>', 'data folder whose keys/ to use (env AMTSBOTE_DATA)', process.env.AMTSBOTE_DATA ?? './data')
  .option('--index', 'an index key (keyed hashes for idempotency) instead of a data key')
  .option('--file <path>', 'the key file (default: AMTSBOTE_DATA_KEYS_FILE / AMTSBOTE_INDEX_KEYS_FILE, else <data>/keys/)')
  .action(async (o) => (await import('./keys.ts')).keysGenerate(o));
withDatabaseOptions(
  keys
    .command('rotate')
    .description(
      're-seal every value that another data key (or none) sealed with the current one, in batches, beside a running hub; resumable',
    )
    .option('--batch <rows>', 'rows per batch, each its own transaction', '200'),
).action(async (o) => (await import('./keys.ts')).keysRotate(o));
const submissions = program.command('submissions').description("find submissions and read their timeline (as the console's search)");
withDatabaseOptions(
  submissions
    .command('search')
    .description('search submissions, newest first; every given option must match')
    .option('--id <uuid>', 'the hub id')
    .option('--external-id <id>', "the portal's id of the application")
    .option('--reference <ref>', "a back office's reference (Aktenzeichen)")
    .option('--tenant <ags>', 'the tenant key')
    .option('--service <slug>', 'the service')
    .option('--target <id>', 'a target one of its deliveries goes to')
    .option('--state <state>', 'a state one of its deliveries is in: queued, sending, waiting, acknowledging, delivered, failed')
    .option('--error-kind <kind>', 'the last error kind of one of its deliveries, e.g. http-400')
    .option('--from <iso>', 'received at or after (ISO 8601 with offset)')
    .option('--to <iso>', 'received before (ISO 8601 with offset)')
    .option('--limit <n>', 'rows (1-500)', '50')
    .option('--cursor <c>', 'the next page, as the previous one printed')
    .option('--json', 'print the page as the console API does'),
).action(async (o) => (await import('./submissions.ts')).submissionsSearch(o));
withDatabaseOptions(
  submissions
    .command('show')
    .description("a submission's timeline: deliveries, events, attempts with errors and durations, statuses to the portal")
    .argument('<id>', 'the hub id or the external id')
    .option('--json', 'print the timeline as the console API does'),
).action(async (ref: string, o) => (await import('./submissions.ts')).submissionsShow(ref, o));

program
  .command('log')
  .description(
    "the running hub's sync log (GET /api/v1/console/log with AMTSBOTE_OPERATOR_TOKEN); the kept lines, and with --follow every new one",
  )
  .option('-f, --follow', 'keep printing new lines until interrupted')
  .option('--url <url>', 'the hub (env AMTSBOTE_URL)', process.env.AMTSBOTE_URL ?? 'http://127.0.0.1:3000')
  .option('--tenant <ags>', 'only lines of this tenant')
  .option('--target <id>', 'only lines of this target')
  .option('--level <level>', 'the least severe level shown: error, warn, info, debug')
  .option('--json', 'one JSON object per line')
  .action(async (o) => (await import('./log.ts')).log(o));

program.parseAsync(process.argv).catch((e: Error) => {
  // Configuration errors are for people: print them, not a stack.
  console.error(e.name === 'ConfigError' ? e.message : `amtsbote: ${e.message}`);
  process.exit(1);
});
