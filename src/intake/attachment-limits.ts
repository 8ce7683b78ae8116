import type { FieldError } from '../http/problem-details.ts';
import { pointer } from '../http/problem-details.ts';
import type { AttachmentLimits } from '../config/intake-limits.ts';
import { contentMismatch } from './attachment-sniff.ts';

/** An attachment as intake decoded it. */
export interface DecodedAttachment {
  mediaType: string;
  content: Buffer;
}

/**
 * The attachment rules an envelope's schema cannot state: how many, how large each and together (decoded bytes),
 * and whether each one's bytes are what its declared media type says (attachment-sniff.ts). Each fault names its
 * field; the answer is a 422 and nothing is stored.
 */
export function attachmentFaults(list: readonly DecodedAttachment[], limits: AttachmentLimits): FieldError[] {
  const faults: FieldError[] = [];
  if (list.length > limits.maxCount) {
    faults.push({ pointer: pointer(['attachments']), detail: `at most ${limits.maxCount} attachments are accepted, not ${list.length}` });
    return faults;
  }
  let total = 0;
  list.forEach((a, i) => {
    total += a.content.length;
    if (a.content.length > limits.maxBytes)
      faults.push({ pointer: pointer(['attachments', i, 'content']), detail: `the attachment is larger than ${limits.maxBytes} bytes` });
    else if (a.content.length === 0) faults.push({ pointer: pointer(['attachments', i, 'content']), detail: 'the attachment is empty' });
    else {
      const mismatch = contentMismatch(a.mediaType, a.content);
      if (mismatch) faults.push({ pointer: pointer(['attachments', i, 'mediaType']), detail: mismatch });
    }
  });
  if (total > limits.maxTotalBytes)
    faults.push({ pointer: pointer(['attachments']), detail: `the attachments together are larger than ${limits.maxTotalBytes} bytes` });
  return faults;
}
