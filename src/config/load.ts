import { createHash } from 'node:crypto';
import path from 'node:path';
import type { z } from 'zod';
import type { AdapterDefinition } from '../sdk/types.ts';
import { resolveFilePaths } from '../sdk/define-adapter.ts';
import { configSchema, type HubConfig, type TargetConfig } from './schema.ts';
import { ConfigError, explainIssue, type ConfigProblem, type IssueContext } from './errors.ts';
import { knownKeys, valueAt } from './schema-keys.ts';
import { resolveEnv, type EnvProblem } from './env.ts';
import { readConfigFolder, type RawConfig } from './read-folder.ts';

/** Room a lease needs beyond an attempt's timeout: the worker's hard stop plus time to record the outcome. */
export const LEASE_MARGIN_MS = 2_000;

export interface ResolvedTarget {
  id: string;
  config: TargetConfig;
  adapter: AdapterDefinition;
  /** Options as the adapter's schema parsed them (defaults applied, secrets resolved). */
  options: unknown;
  /** `original`: the submission's original document, unchanged (docs/inbound.md); `xdomea`: a validated xdomea container (docs/xdomea.md). */
  format: 'json' | 'xml' | 'original' | 'xdomea';
}

export interface LoadedConfig {
  dir: string;
  mappingsDir: string;
  hub: HubConfig;
  targets: Map<string, ResolvedTarget>;
  /** Locates a key path in the YAML files, for problems found by later stages (mappings, routes). */
  locate: RawConfig['locate'];
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  adapters: ReadonlyMap<string, AdapterDefinition>;
}

/** Reads and validates a configuration folder. Throws ConfigError with every problem found, not just the first. */
export function loadConfig(dir: string, opts: LoadOptions): LoadedConfig {
  const problems: ConfigProblem[] = [];
  const raw = readConfigFolder(dir, problems);
  if (problems.length) throw new ConfigError(problems);

  const envProblems: EnvProblem[] = [];
  const resolved = resolveEnv(raw.value, opts.env ?? process.env, envProblems);
  const at = (p: EnvProblem | { path: (string | number)[]; message: string }): ConfigProblem => ({ ...raw.locate(p.path), ...p });
  problems.push(...envProblems.map(at));

  const parsed = configSchema.safeParse(resolved);
  /** Issues of `schema`, which checked the value at `base` of the configuration. */
  const context = (schema: z.core.$ZodType, base: (string | number)[]): IssueContext => ({
    knownKeys: (p) => knownKeys(schema, p, valueAt(resolved, base)),
    valueAt: (p) => valueAt(resolved, [...base, ...p]),
    sourceAt: (p) => raw.sourceAt([...base, ...p]),
  });
  // A value whose environment variable is missing fails its schema too; the missing variable is the news.
  const unset = new Set(envProblems.map((p) => p.path.join('.')));
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (unset.has(issue.path.map(String).join('.'))) continue;
      problems.push(...explainIssue(issue, context(configSchema, [])).map(at));
    }
  }
  // Adapter options are checked even when the rest failed, so one run reports every problem.
  const targets = new Map<string, ResolvedTarget>();
  const rawTargets = (resolved as { targets?: unknown }).targets;
  for (const [id, raw] of Object.entries(rawTargets && typeof rawTargets === 'object' ? rawTargets : {})) {
    const target = parsed.success ? parsed.data.targets[id] : undefined;
    const type = (raw as { adapter?: unknown } | null)?.adapter;
    if (typeof type !== 'string') continue;
    const adapter = opts.adapters.get(type);
    if (!adapter) {
      problems.push(
        at({ path: ['targets', id, 'adapter'], message: `unknown adapter "${type}"; known: ${[...opts.adapters.keys()].join(', ')}` }),
      );
      continue;
    }
    const options = adapter.options.safeParse((raw as { options?: unknown }).options ?? {});
    const optionsContext = context(adapter.options, ['targets', id, 'options']);
    if (!options.success) {
      for (const issue of options.error.issues) {
        if (unset.has(['targets', id, 'options', ...issue.path.map(String)].join('.'))) continue;
        for (const p of explainIssue(issue, optionsContext))
          problems.push(at({ ...p, path: ['targets', id, 'options', ...p.path.map(String)] }));
      }
      continue;
    }
    // Files that belong to the configuration (WSDL, XSD, certificates, keys) are found relative to it.
    const resolvedOptions = resolveFilePaths(adapter.options, options.data, dir);
    if (target) targets.set(id, { id, config: target, adapter, options: resolvedOptions, format: target.format ?? adapter.defaultFormat });
  }
  if (!parsed.success) throw new ConfigError(problems);
  const hub = parsed.data;
  problems.push(...checkReferences(hub, raw.locate).map(at));
  // A lease must outlast the longest attempt, or the delivery is due again while its attempt still runs.
  for (const [id, t] of Object.entries(hub.targets)) {
    const needed = t.timeoutMs + LEASE_MARGIN_MS;
    if (hub.worker.leaseMs < needed) {
      problems.push(
        at({
          path: ['targets', id, 'timeoutMs'],
          message: `${t.timeoutMs} ms leaves no room in worker.leaseMs (${hub.worker.leaseMs} ms); the lease must be at least timeoutMs + ${LEASE_MARGIN_MS} ms`,
        }),
      );
    }
  }
  if (problems.length) throw new ConfigError(problems);

  // Keep only token hashes: the tokens themselves leave memory with the raw config.
  for (const portal of hub.portals) {
    if (portal.token) {
      portal.tokenHash = hashToken(portal.token);
      delete portal.token;
    }
  }
  return {
    dir,
    mappingsDir: path.resolve(dir, hub.paths.mappings),
    hub,
    targets,
    locate: raw.locate,
  };
}

export function hashToken(token: string): string {
  return 'sha256:' + createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Cross-references zod cannot see: ids that must exist, keys that must be unique. */
function checkReferences(hub: HubConfig, locate: RawConfig['locate']): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const tenants = new Set<string>();
  hub.tenants.forEach((t, i) => {
    if (tenants.has(t.key)) out.push({ path: ['tenants', i, 'key'], message: `tenant ${t.key} is listed twice` });
    tenants.add(t.key);
  });
  hub.tenants.forEach((t, i) => {
    if (t.parent && !tenants.has(t.parent)) out.push({ path: ['tenants', i, 'parent'], message: `no tenant ${t.parent}` });
  });
  const services = new Map<string, string>();
  const holder = new Map<string, number>();
  hub.services.forEach((s, i) => {
    for (const key of [s.slug, s.leika]) {
      const first = holder.get(key);
      if (first !== undefined) {
        // Both services by slug and name, and where the first one stands: the usual cause is a demo entry
        // that collides with a real service the user added.
        const other = hub.services[first]!;
        const where = locate(['services', first]);
        const shown = where.file ? ` (${where.file}${where.line ? `:${where.line}` : ''})` : '';
        out.push({
          path: ['services', i],
          message: `service key ${key} is used twice: by ${s.slug} "${s.name}" and by ${other.slug} "${other.name}" at services[${first}]${shown}`,
        });
        continue;
      }
      holder.set(key, i);
      services.set(key, s.slug);
    }
  });
  const portalIds = new Set<string>();
  const hashes = new Set<string>();
  hub.portals.forEach((p, i) => {
    if (portalIds.has(p.id)) out.push({ path: ['portals', i, 'id'], message: `portal id ${p.id} is used twice` });
    portalIds.add(p.id);
    const h = p.tokenHash ?? (p.token ? hashToken(p.token) : '');
    if (hashes.has(h)) out.push({ path: ['portals', i, 'token'], message: 'two portals share one token' });
    hashes.add(h);
    p.tenants.forEach((t, j) => {
      if (t !== '*' && !tenants.has(t)) out.push({ path: ['portals', i, 'tenants', j], message: `no tenant ${t}` });
    });
  });
  const routeIds = new Set<string>();
  const pairs = new Map<string, string>();
  hub.routes.forEach((r, i) => {
    if (routeIds.has(r.id)) out.push({ path: ['routes', i, 'id'], message: `route id ${r.id} is used twice` });
    routeIds.add(r.id);
    const slug = services.get(r.service);
    if (!slug) out.push({ path: ['routes', i, 'service'], message: `no service ${r.service}` });
    r.tenants.forEach((t, j) => {
      if (!tenants.has(t)) out.push({ path: ['routes', i, 'tenants', j], message: `no tenant ${t}` });
      const pair = `${t}/${slug}`;
      const other = pairs.get(pair);
      if (slug && other)
        out.push({ path: ['routes', i, 'tenants', j], message: `tenant ${t} and service ${slug} are already routed by route ${other}` });
      pairs.set(pair, r.id);
    });
    const seen = new Set<string>();
    r.targets.forEach((t, j) => {
      if (!(t.target in hub.targets)) out.push({ path: ['routes', i, 'targets', j, 'target'], message: `no target ${t.target}` });
      if (seen.has(t.target))
        out.push({ path: ['routes', i, 'targets', j, 'target'], message: `target ${t.target} appears twice in this route` });
      seen.add(t.target);
    });
  });
  // A retention rule for a tenant or service the hub does not know would never apply: a typo keeps data too long.
  const slugs = new Set(hub.services.map((s) => s.slug));
  hub.retention.rules.forEach((r, i) => {
    if (r.tenant !== undefined && !tenants.has(r.tenant))
      out.push({ path: ['retention', 'rules', i, 'tenant'], message: `no tenant ${r.tenant}` });
    if (r.service !== undefined && !slugs.has(r.service))
      out.push({ path: ['retention', 'rules', i, 'service'], message: `no service ${r.service} (give its slug)` });
  });
  return out;
}
