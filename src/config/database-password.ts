import { readFileSync } from 'node:fs';

/*
 * The PostgreSQL password never needs the command line, where `ps` shows it to every user of the machine:
 * AMTSBOTE_DATABASE_PASSWORD, or AMTSBOTE_DATABASE_PASSWORD_FILE naming a file that holds it (a container secret).
 * It is put into the URL only in memory, on its way to the driver.
 */

export const DATABASE_PASSWORD_ENV = 'AMTSBOTE_DATABASE_PASSWORD';
export const DATABASE_PASSWORD_FILE_ENV = 'AMTSBOTE_DATABASE_PASSWORD_FILE';

/** What the URL and the environment give: the URL to connect with, and warnings that name no secret. */
export interface DatabaseUrl {
  url: string | undefined;
  warnings: string[];
}

/**
 * The database URL with the password from the environment or its file. `fromCommandLine`: the URL came from
 * `--database-url`, so a password in it has been visible in the process list, which earns a warning.
 */
export function withDatabasePassword(url: string | undefined, env: NodeJS.ProcessEnv, fromCommandLine = false): DatabaseUrl {
  const warnings: string[] = [];
  if (!url || !/^postgres(ql)?:\/\//.test(url)) return { url, warnings };
  const parsed = new URL(url);
  if (parsed.password && fromCommandLine)
    warnings.push(
      `--database-url carries a password, which the process list shows to every user of this machine; set ${DATABASE_PASSWORD_ENV} or ${DATABASE_PASSWORD_FILE_ENV} instead`,
    );
  const password = passwordFromEnv(env);
  if (password === undefined) return { url, warnings };
  if (parsed.password) warnings.push(`the database URL carries a password; the one from ${DATABASE_PASSWORD_ENV}(_FILE) is used`);
  parsed.password = encodeURIComponent(password);
  return { url: parsed.toString(), warnings };
}

function passwordFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const direct = env[DATABASE_PASSWORD_ENV];
  if (direct) return direct;
  const file = env[DATABASE_PASSWORD_FILE_ENV];
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${DATABASE_PASSWORD_FILE_ENV}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  // A secret file usually ends with a line break that is not part of the password.
  const password = text.replace(/\r?\n$/, '');
  if (!password) throw new Error(`${DATABASE_PASSWORD_FILE_ENV}: ${file} is empty`);
  return password;
}

/** The URL without its password, for a log line or an error message. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

/**
 * Overwrites the process title (what `ps` shows, on Linux the argv area) with the password masked: it was
 * visible from the start until here, so the warning stays.
 */
export function maskPasswordInProcessTitle(argv: readonly string[]): void {
  const masked = argv.map((a) => a.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@'));
  if (masked.some((a, i) => a !== argv[i])) process.title = masked.join(' ');
}
