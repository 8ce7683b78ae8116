import type { LoadedConfig, ResolvedTarget } from '../config/load.ts';
import type { PortalConfig, RouteConfig, ServiceConfig, TenantConfig } from '../config/schema.ts';
import { ConfigError, type ConfigProblem } from '../config/errors.ts';
import { compileMapping, MappingError, type CompiledMapping } from '../mapping/engine.ts';

export interface RouteStep {
  /** `<route id>/<target id>`: stable, shown in logs and events. */
  id: string;
  route: RouteConfig;
  target: ResolvedTarget;
  mapping: CompiledMapping;
}

/** (tenant, service) → the targets and mappings to deliver to; built once at start-up, mappings compiled. */
export class Router {
  private readonly tenants = new Map<string, TenantConfig>();
  private readonly services = new Map<string, ServiceConfig>();
  private readonly routes = new Map<string, RouteStep[]>();
  private readonly mappings = new Map<string, CompiledMapping>();
  private readonly stepsById = new Map<string, RouteStep>();

  constructor(readonly config: LoadedConfig) {
    const problems: ConfigProblem[] = [];
    const hub = config.hub;
    for (const t of hub.tenants) this.tenants.set(t.key, t);
    for (const s of hub.services) {
      this.services.set(s.slug, s);
      this.services.set(s.leika, s);
    }
    hub.routes.forEach((route, i) => {
      const service = this.services.get(route.service)!;
      const steps: RouteStep[] = [];
      route.targets.forEach((t, j) => {
        const mapping = this.compile(t.mapping, problems, ['routes', i, 'targets', j, 'mapping']);
        const target = config.targets.get(t.target)!;
        if (!mapping) return;
        const step = { id: `${route.id}/${t.target}`, route, target, mapping };
        steps.push(step);
        this.stepsById.set(step.id, step);
      });
      for (const tenant of route.tenants) this.routes.set(`${tenant}/${service.slug}`, steps);
    });
    if (problems.length) throw new ConfigError(problems);
  }

  private compile(id: string, problems: ConfigProblem[], path: (string | number)[]): CompiledMapping | undefined {
    const known = this.mappings.get(id);
    if (known) return known;
    try {
      const m = compileMapping(this.config.mappingsDir, id);
      this.mappings.set(id, m);
      return m;
    } catch (e) {
      const msg = e instanceof MappingError ? e.describe() : String(e);
      problems.push({ ...this.config.locate(path), path, message: msg });
      return undefined;
    }
  }

  tenant(key: string): TenantConfig | undefined {
    return this.tenants.get(key);
  }

  /** A service by slug or LeiKa key. */
  service(key: string): ServiceConfig | undefined {
    return this.services.get(key);
  }

  steps(tenant: string, serviceSlug: string): RouteStep[] | undefined {
    return this.routes.get(`${tenant}/${serviceSlug}`);
  }

  /** The step a stored delivery belongs to, if the configuration still has it. */
  step(routeId: string, targetId: string): RouteStep | undefined {
    return this.stepsById.get(`${routeId}/${targetId}`);
  }

  mapping(id: string): CompiledMapping | undefined {
    return this.mappings.get(id);
  }

  /** A portal may submit for the tenants it lists; a district's key covers its municipalities; `*` covers all. */
  portalMaySubmit(portal: PortalConfig, tenantKey: string): boolean {
    const parent = this.tenants.get(tenantKey)?.parent;
    return portal.tenants.some((t) => t === '*' || t === tenantKey || (parent !== undefined && t === parent));
  }
}
