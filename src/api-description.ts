/**
 * The OpenAPI 3.1 description of Amtsbote's public API (v1), served at `GET /api/v1/openapi.json`. Each feature
 * hands in its fragment and the kernel (src/http/openapi/) assembles them; request and answer schemas are
 * generated from the zod schemas the routes validate and type their answers with. test/openapi.test.ts checks
 * real responses against the document.
 */
// First: every feature's problem types are registered before a fragment names one.
import './problems.ts';
import { assembleOpenApi } from './http/openapi/assemble.ts';
import { documentFragment } from './http/openapi/document-path.ts';
import { intakeFragment } from './intake/openapi.ts';
import { inboundFragment } from './inbound/openapi.ts';
import { fitConnectFragment } from './intake/fit-connect/openapi.ts';
import { healthFragment } from './operator/health-openapi.ts';
import { replayFragment } from './operator/replay-openapi.ts';
import { targetsFragment } from './operator/targets-openapi.ts';
import { reconcileFragment } from './reconcile/openapi.ts';
import { statusFragment } from './status/openapi.ts';
import { consoleFragment } from './console/openapi.ts';
import { sessionFragment } from './operator/access/openapi.ts';

export const openApiDocument = assembleOpenApi(
  {
    title: 'Amtsbote',
    version: '1',
    summary: 'Submissions from municipal service portals, delivered to back-office systems (Fachverfahren).',
    description: [
      'A portal sends each completed application (Antrag) once to `POST /api/v1/submissions`, as JSON or XML,',
      'with its portal token. Amtsbote stores it, answers 202 at once and delivers it in the background to every',
      'back office its routes name for the tenant and service; `GET /api/v1/submissions/{id}` shows how far that got.',
      '',
      '* **tenant** is the official key of the municipality: the 8-digit AGS (Amtlicher Gemeindeschlüssel, e.g.',
      '  `05513000` Gelsenkirchen) or the 5-digit key of a district (Kreis, e.g. `05562`). A portal may submit for',
      '  the tenants it is configured with and for the municipalities of a district it is configured with.',
      "* **service** is the service's slug (e.g. `sperrmuell`) or its LeiKa key (Leistungskatalog, 14 digits).",
      "* **externalId** is the portal's own id of the application. Resending the same application under the same",
      '  externalId is safe (200 with the first submission); a different body under it is refused (409).',
      '* Errors are `application/problem+json` (RFC 9457); field errors carry a JSON Pointer into the body.',
    ].join('\n'),
    license: { name: 'MIT', identifier: 'MIT' },
  },
  [
    intakeFragment,
    inboundFragment,
    fitConnectFragment,
    healthFragment,
    replayFragment,
    statusFragment,
    targetsFragment,
    reconcileFragment,
    consoleFragment,
    sessionFragment,
    documentFragment,
  ],
);
