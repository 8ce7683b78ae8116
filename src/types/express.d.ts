import type { PortalConfig } from '../config/schema.ts';

declare global {
  namespace Express {
    interface Request {
      /** The authenticated portal, set by intake's authentication step. */
      portal?: PortalConfig;
    }
  }
}
