import { describeAdapterConformance, xmlMessage, type ConformanceHarness } from '../../src/sdk/conformance.ts';
import soap from './index.ts';
import { HST_NS, HundesteuerBackOffice, REFUSAL_TEXT, WSDL_PATH } from './fixtures/back-office.ts';

// A deduplicating node-soap back office on 127.0.0.1 (one case per IdempotencyKey SOAP header) with
// WS-Security UsernameToken (PasswordDigest), for the standard adapter suite.
const PASSWORD = 'conformance-Passwort-SECRET-4711';
let bo: HundesteuerBackOffice | undefined;

const backOffice = (): HundesteuerBackOffice => {
  if (!bo) throw new Error('the back office is not started');
  return bo;
};

const options = (password: string) => ({
  wsdl: WSDL_PATH,
  operation: 'Anmelden',
  endpoint: backOffice().url11,
  security: { type: 'usernameToken', username: 'amtsbote', password },
  referencePath: 'Quittung.Aktenzeichen',
  // The back office's result code in its response element: 0 filed, 2 busy (later), anything else refused.
  acceptance: { accepted: 'status = "0"', retryable: 'status = "2"', error: 'errormessage' },
});

/**
 * A UsernameToken is different in every request by design (a fresh nonce and Created against replay), so
 * the determinism check compares the envelopes without the wsse:Security header; everything the mapping
 * and the adapter put into the envelope stays in.
 */
const withoutSecurityHeader = (body: string) => body.replace(/<wsse:Security\b[\s\S]*?<\/wsse:Security>/g, '');

const harness: ConformanceHarness = {
  async start() {
    bo = await new HundesteuerBackOffice({ users: { amtsbote: PASSWORD } }).start();
  },
  async stop() {
    await bo?.stop();
  },
  options: () => options(PASSWORD),
  badCredentialOptions: () => options('falsches-Passwort-0000'),
  secrets: [PASSWORD],
  behave: (b) => {
    backOffice().behaviour = b === 'accept' ? 'accept' : b === 'retryable' ? 'serverFault' : b === 'refuse' ? 'refused' : 'clientFault';
  },
  refusal: { text: REFUSAL_TEXT },
  filed: () =>
    backOffice()
      .keys()
      .map((idempotencyKey) => ({ idempotencyKey })),
  received: () => backOffice().received.map((r) => Buffer.from(withoutSecurityHeader(r.body), 'utf8')),
  message: xmlMessage(
    `<?xml version="1.0" encoding="UTF-8"?><hst:Anmeldung xmlns:hst="${HST_NS}"><hst:Gemeinde>05513000</hst:Gemeinde>` +
      '<hst:Halter><hst:Vorname>Erika</hst:Vorname><hst:Nachname>Mustermann</hst:Nachname></hst:Halter>' +
      '<hst:Hund><hst:Name>Bello</hst:Name><hst:Rasse>Dackel</hst:Rasse></hst:Hund><hst:Haltungsbeginn>2025-05-01</hst:Haltungsbeginn></hst:Anmeldung>',
  ),
};

describeAdapterConformance(soap, harness);
