import { z } from 'zod';

// The operator area's access: browser sessions, the login throttle, scoped operator tokens and OpenID Connect.
// Secrets are never written here: a token or client secret is named by the environment variable that holds it.

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'the name of an environment variable, e.g. AMTSBOTE_TOKEN_GE');
const role = z.enum(['viewer', 'operator', 'admin']);
/** Tenant keys (a district key covers its towns) or `*` for every tenant. */
const scope = z
  .array(z.union([z.string().regex(/^\d{5}(\d{3})?$/, 'a tenant key'), z.literal('*')]))
  .min(1)
  .describe('tenant keys this login may see (a district key covers its towns), or ["*"] for all');

export const operatorTokenSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case id'),
    tokenEnv: envName.describe('the environment variable holding the token (at least 32 characters)'),
    role,
    tenants: scope,
  })
  .strict();

export const oidcSchema = z
  .object({
    issuer: z.url().describe("the OpenID provider's issuer URL (its /.well-known/openid-configuration is read at start-up)"),
    clientId: z.string().min(1),
    clientSecretEnv: envName.optional().describe('the environment variable holding the client secret; absent: a public client (PKCE only)'),
    redirectUrl: z.url().describe("this hub's callback as registered at the provider: https://<hub>/console/oidc/callback"),
    scope: z.string().default('openid profile email'),
    claims: z
      .object({
        name: z.string().default('preferred_username').describe('the claim shown as the login name'),
        role: z.string().default('amtsbote_role').describe('the claim (string or list) mapped to a role'),
        tenants: z.string().default('amtsbote_tenants').describe('the claim (list or comma-separated string) of tenant keys'),
      })
      .strict()
      .prefault({}),
    roles: z
      .record(z.string(), role)
      .default({ viewer: 'viewer', operator: 'operator', admin: 'admin' })
      .describe('role claim values (e.g. group names) to roles; the highest mapped role wins; none mapped: refused'),
    label: z.string().default('Single Sign-on').describe('the login button'),
  })
  .strict();

export const accessSchema = z
  .object({
    sessions: z
      .object({
        idleMinutes: z
          .number()
          .int()
          .min(1)
          .max(24 * 60)
          .default(30),
        absoluteHours: z
          .number()
          .int()
          .min(1)
          .max(7 * 24)
          .default(12),
        secureCookie: z
          .boolean()
          .default(true)
          .describe('false only for a demo served over http on a loopback address (server.host 127.0.0.1); refused otherwise'),
        sameSite: z.enum(['lax', 'strict']).default('lax'),
      })
      .strict()
      .prefault({}),
    throttle: z
      .object({
        freeFailures: z.number().int().min(1).max(100).default(5).describe('failed logins per account and per address before a delay'),
        maxDelaySeconds: z.number().int().min(1).max(86_400).default(900),
        resetMinutes: z
          .number()
          .int()
          .min(1)
          .max(7 * 24 * 60)
          .default(60)
          .describe('a counter quiet this long starts again'),
      })
      .strict()
      .prefault({}),
    operatorTokens: z.array(operatorTokenSchema).default([]).describe('bearer tokens for machines, scoped like accounts'),
    oidc: oidcSchema.optional(),
  })
  .strict();

export type AccessConfig = z.output<typeof accessSchema>;
export type OperatorTokenConfig = z.output<typeof operatorTokenSchema>;
export type OidcConfig = z.output<typeof oidcSchema>;
