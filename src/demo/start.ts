import type { Logger } from 'winston';
import type { HubConfig } from '../config/schema.ts';
import { startSimulators, type RunningSimulator } from './index.ts';

/**
 * The simulators hub.yaml's `demo.simulators` names, for `amtsbote start`: started once the configuration is
 * loaded and the store is open, before the adapters and HTTP, and closed after the hub (HubOptions.alongside).
 */
export async function startDemo(hub: HubConfig, logger: Logger): Promise<RunningSimulator[]> {
  if (!hub.demo) return [];
  const simulators = await startSimulators(hub.demo.simulators, { logger: (m) => logger.info(m, { component: 'simulator' }) });
  for (const s of simulators) logger.info('demo back-office simulator started', { component: 'simulator', kind: s.kind, url: s.url });
  return simulators;
}
