import path from 'node:path';
import { z } from 'zod';
import { resolveEnv } from '../../config/env.ts';
import { ConfigError, formatProblem, type ConfigProblem } from '../../config/errors.ts';
import { readConfigFolder } from '../../config/read-folder.ts';
import { hubSchema, portalSchema, routeSchema, serviceSchema, targetSchema, tenantSchema } from '../../config/schema.ts';
import type { PortalConfig, RouteConfig, ServiceConfig, TargetConfig, TenantConfig } from '../../config/schema.ts';

/** What the golden tests need from a configuration: where mappings live and what the hub would put into the input. */
export interface GoldenConfig {
  dir: string;
  mappingsDir: string;
  tenants: TenantConfig[];
  services: ServiceConfig[];
  portals: PortalConfig[];
  routes: RouteConfig[];
  targets: Record<string, TargetConfig>;
}

// Only the parts the input and the output format depend on are validated. Credentials and adapter options
// are not read: a mapping test must run on a laptop without the production secrets in its environment.
const goldenSchema = z.object({
  paths: hubSchema.shape.paths,
  tenants: z.array(tenantSchema).default([]),
  services: z.array(serviceSchema).default([]),
  // Portals are only used for their id; a token problem is `config check`'s business.
  portals: z.array(z.looseObject({ id: portalSchema.shape.id, tenants: portalSchema.shape.tenants })).default([]),
  targets: z.record(z.string(), targetSchema).default({}),
  routes: z.array(routeSchema).default([]),
});

export function loadGoldenConfig(dir: string): GoldenConfig {
  const problems: ConfigProblem[] = [];
  const raw = readConfigFolder(dir, problems);
  if (problems.length) throw new ConfigError(problems);
  // Unset variables become "": they only matter for options, which are not looked at here.
  const resolved = resolveEnv(raw.value, { ...process.env }, []) as Record<string, unknown>;
  const parsed = goldenSchema.safeParse(resolved);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const p = i.path.map((k) => (typeof k === 'symbol' ? String(k) : k));
        return { ...raw.locate(p), path: p, message: i.message };
      }),
    );
  }
  const c = parsed.data;
  return {
    dir,
    mappingsDir: path.resolve(dir, c.paths.mappings),
    tenants: c.tenants,
    services: c.services,
    portals: c.portals as unknown as PortalConfig[],
    routes: c.routes,
    targets: c.targets,
  };
}

export function describeConfigError(e: unknown): string {
  return e instanceof ConfigError ? e.problems.map(formatProblem).join('\n') : (e as Error).message;
}
