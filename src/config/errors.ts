/** One problem in the configuration, located by file, line and key path. */
export interface ConfigProblem {
  file?: string;
  line?: number;
  column?: number;
  path: (string | number)[];
  message: string;
}

export function formatPath(path: readonly (string | number)[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}${p.column ? `:${p.column}` : ''}` : ''}` : '(configuration)';
  const key = p.path.length ? ` ${formatPath(p.path)}:` : '';
  return `${where}${key} ${p.message}`;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => '  ' + formatProblem(p)).join('\n')}`);
    this.name = 'ConfigError';
  }
}
