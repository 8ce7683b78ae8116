// One submission from the platform to plain bytes, checked as FIT-Connect asks a subscriber to check it:
// decrypt the metadata, validate it, compare it with the submission, decrypt data and attachments and compare
// their SHA-512 with the metadata. The outcome says what to answer: accept (valid), reject with problems
// (invalid), or nothing yet (failed: the platform could not be asked; try again later).
// Accepting is the caller's step, after the submission is durably stored.

import type { CryptoKey } from 'jose';
import type { SubmissionApi, SubmissionForPickup } from './api.ts';
import { authenticationTag, buildAcceptSet, buildRejectSet, checkHash, decryptJwe, type AuthenticationTags } from './crypto.ts';
import type { FitConnectFailure, Result } from './http.ts';
import { checkContentStructure, parseMetadata, type Metadata } from './metadata.ts';
import type { RejectProblem } from './problems.ts';

export interface ReceivedAttachment {
  attachmentId: string;
  mimeType: string;
  purpose: string;
  filename?: string | undefined;
  content: Uint8Array;
}

export interface ReceivedSubmission extends SubmissionForPickup {
  metadata: Metadata;
  data?: Uint8Array | undefined;
  attachments: ReceivedAttachment[];
  authenticationTags: AuthenticationTags;
}

export type ReceiveOutcome =
  | { kind: 'valid'; submission: ReceivedSubmission }
  | { kind: 'invalid'; pickup: SubmissionForPickup; problems: RejectProblem[] }
  | { kind: 'failed'; failure: FitConnectFailure };

export async function receiveSubmission(api: SubmissionApi, submissionId: string, key: CryptoKey): Promise<ReceiveOutcome> {
  const got = await api.getSubmission(submissionId);
  if (!got.ok) return { kind: 'failed', failure: got };
  const s = got.value;
  const pickup = { destinationId: s.destinationId, submissionId: s.submissionId, caseId: s.caseId };
  const invalid = (found: RejectProblem[]): ReceiveOutcome => ({ kind: 'invalid', pickup, problems: found });

  const meta = await decryptJwe(s.encryptedMetadata, key, 'metadata');
  if (!meta.ok) return invalid([meta.problem]);
  const parsed = parseMetadata(meta.plaintext);
  if (!parsed.ok) return invalid(parsed.problems);
  const metadata = parsed.metadata;
  const structure = checkContentStructure(metadata, s);
  if (structure.length > 0) return invalid(structure);

  // From here on every part is checked, so one rejection names all that is wrong.
  const found: RejectProblem[] = [];
  let data: Uint8Array | undefined;
  const described = metadata.contentStructure.data;
  if (described && s.encryptedData) {
    const d = await decryptJwe(s.encryptedData, key, 'data');
    if (!d.ok) found.push(d.problem);
    else {
      const mismatch = checkHash(d.plaintext, described.hash, 'data');
      if (mismatch) found.push(mismatch);
      data = d.plaintext;
    }
  }

  const attachments: ReceivedAttachment[] = [];
  const tags: Record<string, string> = {};
  for (const entry of metadata.contentStructure.attachments) {
    const id = entry.attachmentId;
    const jwe = await api.getAttachment(s.submissionId, id);
    if (!jwe.ok) return { kind: 'failed', failure: jwe };
    tags[id] = authenticationTag(jwe.value);
    const a = await decryptJwe(jwe.value, key, `attachment:${id}`);
    if (!a.ok) {
      found.push(a.problem);
      continue;
    }
    const mismatch = checkHash(a.plaintext, entry.hash, `attachment:${id}`);
    if (mismatch) found.push(mismatch);
    attachments.push({
      attachmentId: id,
      mimeType: entry.mimeType,
      purpose: entry.purpose,
      filename: entry.filename,
      content: a.plaintext,
    });
  }
  if (found.length > 0) return invalid(found);

  const authenticationTags: AuthenticationTags = {
    metadata: authenticationTag(s.encryptedMetadata),
    data: s.encryptedData ? authenticationTag(s.encryptedData) : undefined,
    attachments: tags,
  };
  return { kind: 'valid', submission: { ...pickup, metadata, data, attachments, authenticationTags } };
}

export interface Signer {
  key: CryptoKey;
  kid: string;
  now: () => number;
}

/** Posts `accept-submission` for a submission the hub has durably stored (what it received, or its pickup row). */
export async function acceptSubmission(
  api: SubmissionApi,
  signer: Signer,
  s: SubmissionForPickup & { authenticationTags: AuthenticationTags },
): Promise<Result<void>> {
  const set = await buildAcceptSet(setContext(signer, s), s.authenticationTags);
  return api.postEvent(s.caseId, set);
}

/** Posts `reject-submission` with the problems found. */
export async function rejectSubmission(
  api: SubmissionApi,
  signer: Signer,
  pickup: SubmissionForPickup,
  found: RejectProblem[],
): Promise<Result<void>> {
  const set = await buildRejectSet(setContext(signer, pickup), found);
  return api.postEvent(pickup.caseId, set);
}

function setContext(signer: Signer, p: SubmissionForPickup) {
  return {
    destinationId: p.destinationId,
    submissionId: p.submissionId,
    caseId: p.caseId,
    issuedAt: Math.floor(signer.now() / 1000),
    key: signer.key,
    kid: signer.kid,
  };
}
