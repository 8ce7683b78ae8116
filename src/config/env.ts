// `${env:NAME}` and `${env:NAME:-default}` in any string value are replaced from the environment.
const PATTERN = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface EnvProblem {
  path: (string | number)[];
  message: string;
}

export function resolveEnv(value: unknown, env: NodeJS.ProcessEnv, problems: EnvProblem[], path: (string | number)[] = []): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${env:')) return value;
    return value.replace(PATTERN, (_m, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      problems.push({ path, message: `environment variable ${name} is not set` });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveEnv(v, env, problems, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveEnv(v, env, problems, [...path, k])]));
  }
  return value;
}
