import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

// A data centre's OpenID provider for tests: oidc-provider 9 on 127.0.0.1 with its development login and consent
// forms (any password), and a directory of people with the role and tenant claims the hub maps.

export const CLIENT_SECRET = 'oidc-client-secret-0123456789abcdef';

/** The data centre's directory: who may use the console, with which role claim and tenants. */
export const PEOPLE: Record<string, { role?: string[]; tenants?: string[] }> = {
  'anna.ge': { role: ['amtsbote-operators'], tenants: ['05513000'] },
  'rolf.kreis': { role: ['staff', 'amtsbote-viewers'], tenants: ['05562'] },
  'otto.norole': { role: ['staff'], tenants: ['05513000'] },
  'nina.notenant': { role: ['amtsbote-operators'] },
};

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

export async function startProvider(port: number, redirectUri: string): Promise<Server> {
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    clients: [
      {
        client_id: 'amtsbote',
        client_secret: CLIENT_SECRET,
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    claims: { openid: ['sub'], profile: ['preferred_username'], amtsbote: ['amtsbote_groups', 'amtsbote_tenants'] },
    scopes: ['openid', 'profile', 'amtsbote'],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        claims: async () => ({ sub: id, preferred_username: id, amtsbote_groups: PEOPLE[id]?.role, amtsbote_tenants: PEOPLE[id]?.tenants }),
      };
    },
  });
  const server = createServer(provider.callback());
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return server;
}
