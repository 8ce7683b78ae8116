import { z } from 'zod';
import { checkHttpUrl, tlsOptions } from '../../src/sdk/index.ts';

const url = z.string().superRefine(checkHttpUrl('tls'));
const nonEmpty = z.string().min(1);

/** oscimeta:PartyIdentifierType: an XTA account's identifier and the kind of identifier it is. */
const party = z
  .object({
    identifier: nonEmpty.describe('the identifier, e.g. a DVDV/OSCI address such as "gad:010100100000"'),
    type: nonEmpty.default('xoev').describe('the kind of identifier (attribute type), e.g. "xoev" or "dvdv"'),
    name: nonEmpty.optional().describe('a readable name of the party'),
    category: nonEmpty.optional().describe('the party\'s category, e.g. "Meldebehörde"'),
  })
  .strict();

/** oscimeta:KeyCodeType: a code from a code list with the list's URI and version. */
const keyCode = z
  .object({
    code: nonEmpty,
    listUri: nonEmpty.describe('the code list (listURI)'),
    listVersionId: nonEmpty.describe('its version (listVersionID)'),
    name: nonEmpty.optional(),
  })
  .strict();

export const xta2OptionsSchema = z
  .object({
    endpoints: z
      .object({
        management: url.describe('the ManagementPort: checkAccountActive, createMessageID, getTransportReport'),
        send: url.describe('the SendXtaPort: sendMessage'),
        msgBox: url.optional().describe('the MsgBoxPort; not used for sending, default: the management URL'),
      })
      .strict()
      .describe("the XTA server's three port addresses (one URL may serve all)"),
    tls: tlsOptions
      .optional()
      .describe('client certificate and key the XTA server authenticates the hub by (the WSDL demands one), and its CA'),
    author: party.describe("the sending account (oscimeta:Author): the hub's identifier at the XTA server"),
    reader: party.describe("the receiving account (oscimeta:Reader): the back office's identifier"),
    service: nonEmpty.describe('the service the message belongs to (Qualifier/Service, a URI such as "urn:xoev-de:xdomea:schema:3.0.0")'),
    businessScenario: z
      .union([z.object({ defined: keyCode }).strict(), z.object({ undefined: nonEmpty }).strict()])
      .describe('Qualifier/BusinessScenario: a code from a list ({ defined: … }) or a free text ({ undefined: "…" })'),
    messageType: keyCode
      .extend({ payloadSchema: nonEmpty.describe("the payload's schema namespace (payloadSchema)") })
      .describe('Qualifier/MessageType: the message type code and the schema of the payload'),
    subject: nonEmpty.optional().describe('Qualifier/Subject; no citizen data'),
    messageFilename: nonEmpty.optional().describe('the filename given to the message part; default none'),
    testMessage: z.boolean().default(false).describe('mark messages as test messages (TestMsg="true")'),
    reportTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(24 * 60 * 60 * 1000)
      .describe('how long the hub waits for a final transport report (status green, yellow or red) before the delivery fails'),
  })
  .strict();

export type Xta2Options = z.output<typeof xta2OptionsSchema>;
