import { z } from 'zod';

// The demo section of hub.yaml (`demo.simulators`): validated with the rest of the configuration, so a typo
// fails `config check` and start-up with its file and line, and started by `amtsbote start` (src/demo/start.ts).
// Imports nothing but zod, so src/config/ can compose it without depending on the simulators.

const simulatorPort = z.number().int().min(1).max(65535).describe('port on 127.0.0.1');
const simulatorFailureRate = (what: string) => z.number().min(0).max(1).default(0).describe(what);
/** What the REST back-office simulators do over time and on purpose, so reconciliation has something to find (src/demo). */
const simulatorCaseLife = {
  statusStepMs: z.number().int().min(1).optional().describe('how long each case status lasts before the next (default 60000)'),
  loseEvery: z.number().int().min(1).optional().describe('every n-th filed case vanishes one status step later (lost by the back office)'),
  duplicateCase: z.number().int().min(1).optional().describe('the n-th filed case is filed twice under one key (once)'),
  rejectEvery: z.number().int().min(1).optional().describe('every n-th filed case ends rejected with a reason'),
};

/** One entry of demo.simulators; each kind with its own fields, so a typo fails at start-up. */
export const simulatorSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('waste-rest').describe('GELSENDIENSTE (Gelsenkirchen), BEST (Bottrop), Kreis Recklinghausen: JSON over HTTP'),
      port: simulatorPort,
      failureRate: simulatorFailureRate('share of requests answered 503'),
      ...simulatorCaseLife,
    })
    .strict(),
  z
    .object({
      kind: z.literal('dogtax-rest').describe('the dog-tax offices of Gelsenkirchen, Bottrop and the Kreis towns: JSON over HTTP'),
      port: simulatorPort,
      failureRate: simulatorFailureRate('share of requests answered 503'),
      ...simulatorCaseLife,
    })
    .strict(),
  z
    .object({
      kind: z.literal('dogtax-soap').describe("Bottrop's dog-tax office: SOAP 1.1 at /hundesteuer, config/wsdl/hundesteuer-bottrop.wsdl"),
      port: simulatorPort,
      failureRate: simulatorFailureRate('share of requests answered with a soap:Server fault'),
      username: z.string().min(1).default('demo-bottrop').describe('WS-Security UsernameToken user the service accepts'),
      password: z
        .string()
        .min(1)
        .default('demo-password')
        .describe('the password behind the PasswordDigest the service accepts (demo only)'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('waste-xml').describe("Herten's and Marl's waste office: XML over HTTP, config/xsd/sperrmuell-auftrag.xsd"),
      port: simulatorPort,
      failureRate: simulatorFailureRate('share of requests answered 503'),
    })
    .strict(),
  z
    .object({
      kind: z
        .literal('waste-batch')
        .describe("Dorsten's legacy waste system: a batch job polling a drop folder, answering <file>.ok / <file>.err"),
      directory: z.string().min(1).describe('the drop folder; relative paths resolve against the working directory; created if missing'),
      intervalMs: z.number().int().min(10).default(2000).describe('how often the job looks for new files'),
      failureRate: simulatorFailureRate('share of files answered with .err "Verarbeitungsfehler im Nachtlauf"'),
    })
    .strict(),
  z
    .object({
      kind: z
        .literal('dms-xdomea')
        .describe('a DMS importing xdomea 3.0 containers from a drop folder, answering <file>.ok (its reference) / <file>.err'),
      directory: z.string().min(1).describe('the import folder; relative paths resolve against the working directory; created if missing'),
      intervalMs: z.number().int().min(10).default(2000).describe('how often the DMS looks for new containers'),
      failureRate: simulatorFailureRate('share of containers answered with .err "Importdienst nicht verfügbar"'),
    })
    .strict(),
  z
    .object({
      kind: z
        .literal('fit-connect')
        .describe('a FIT-Connect platform with one destination: an online service sends it encrypted XGewerbeanzeige registrations'),
      port: simulatorPort,
      keysDirectory: z
        .string()
        .min(1)
        .describe("the destination's and the platform's keys (made on the first start); relative paths against the working directory"),
      destinationId: z.uuid(),
      clientId: z.string().min(1),
      clientSecret: z.string().min(8).describe('the subscriber client secret the platform accepts (demo only)'),
      scope: z.string().min(1).optional(),
      callbackUrl: z
        .string()
        .regex(/^https?:\/\//, 'an http(s) URL')
        .optional()
        .describe("the hub's POST /api/v1/fit-connect/{destination}/callback; absent: the hub finds submissions by polling"),
      callbackSecret: z.string().min(16).optional().describe('the callback secret (demo only)'),
      schemaUri: z.string().min(1).describe("the data's submissionSchema.schemaUri"),
      submissions: z.number().int().min(0).max(10_000).default(6),
      submitEveryMs: z.number().int().min(10).default(15_000),
      officeFolder: z.string().min(1).optional().describe("the receiving office's drop folder (a file-drop target), created if missing"),
    })
    .strict(),
  z
    .object({
      kind: z
        .literal('portal')
        .describe('the citizen portal: sends example submissions to the hub (losing some), lists them, takes status updates'),
      port: simulatorPort,
      listingToken: z.string().min(16).optional().describe('bearer token the hub must send to the listing API; absent: no auth'),
      submitTo: z
        .string()
        .regex(/^https?:\/\//, 'an http(s) URL')
        .optional()
        .describe("the hub's POST /api/v1/submissions; absent: sends nothing"),
      hubToken: z.string().min(1).optional().describe("the portal's bearer token at the hub (demo only)"),
      submissions: z.number().int().min(0).max(10_000).default(12).describe('how many submissions it makes from examples/'),
      submitEveryMs: z.number().int().min(10).default(5000).describe('one submission every so often'),
      loseEvery: z.number().int().min(1).optional().describe('every n-th submission is never sent to the hub (a lost webhook)'),
      statusFailures: z.number().int().min(0).default(0).describe('the first n status updates are answered 503, so the outbox retries'),
    })
    .strict(),
]);

/** `demo:` in hub.yaml. */
export const demoSchema = z
  .object({ simulators: z.array(simulatorSchema).default([]) })
  .strict()
  .optional()
  .describe('back-office simulators started beside the hub');
