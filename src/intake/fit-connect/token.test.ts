import { expect } from 'chai';
import { startFitConnect, SUBSCRIBE_SCOPE, type FitConnectFixture } from '../../../test/support/fit-connect-simulator/fixture.ts';
import { TokenSource } from './token.ts';

describe('FIT-Connect token source', function () {
  this.timeout(120_000);
  let f: FitConnectFixture;
  beforeEach(async () => {
    f = await startFitConnect();
  });
  afterEach(() => f.sim.stop());

  it('asks once and reuses the token until shortly before it expires; then it fetches a new one', async () => {
    const first = await f.tokens.get();
    const again = await f.tokens.get();
    expect(first.ok && again.ok && first.value === again.value).to.equal(true);
    expect(f.sim.tokensIssued).to.equal(1);
    f.clock.advance(28 * 60_000);
    expect((await f.tokens.get()).ok).to.equal(true);
    expect(f.sim.tokensIssued).to.equal(1);
    // 29 of 30 minutes: renewed before the platform would refuse it.
    f.clock.advance(60_000);
    const renewed = await f.tokens.get();
    expect(renewed.ok && first.ok && renewed.value !== first.value).to.equal(true);
    expect(f.sim.tokensIssued).to.equal(2);
  });

  it('shares one request among concurrent callers', async () => {
    await Promise.all([f.tokens.get(), f.tokens.get(), f.tokens.get()]);
    expect(f.sim.tokensIssued).to.equal(1);
  });

  it('a wrong secret is a permanent failure that does not show the secret; a wrong scope names invalid_scope', async () => {
    const wrong = new TokenSource({
      tokenUrl: `${f.sim.url}/token`,
      clientId: f.clientId,
      clientSecret: 'not-the-secret-0815',
      now: f.clock.now,
    });
    const result = await wrong.get();
    expect(result).to.include({ ok: false, retryable: false, errorKind: 'token-http-401' });
    expect(JSON.stringify(result)).not.to.contain('not-the-secret-0815');
    const scoped = new TokenSource({
      tokenUrl: `${f.sim.url}/token`,
      clientId: f.clientId,
      clientSecret: f.clientSecret,
      scope: `${SUBSCRIBE_SCOPE}-x`,
      now: f.clock.now,
    });
    expect((await scoped.get()).ok ? '' : ((await scoped.get()) as { error: string }).error).to.contain('invalid_scope');
  });

  it('a closed port is a retryable network failure naming host and port', async () => {
    const url = new URL(f.sim.url);
    await f.sim.stop();
    const result = await f.tokens.get();
    expect(result).to.include({ ok: false, retryable: true, errorKind: 'token-network' });
    expect(result.ok ? '' : result.error)
      .to.contain(`127.0.0.1:${url.port}`)
      .and.not.contain(f.clientSecret);
  });
});
