// The SOAP 1.2 envelopes of XTA 2.1.1 with the WS-Addressing headers its policy demands. Written as text rather
// than through node-soap's client: node-soap adds no WS-Addressing headers of its own (its `addSoapHeader`
// would need them built here anyway) and cannot put xop:Include into the body (see mtom.ts).

export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  wsa: 'http://www.w3.org/2005/08/addressing',
  xta: 'http://xoev.de/transport/xta/211',
  osci: 'http://www.osci.eu/ws/2008/05/transport',
  meta: 'http://www.osci.eu/ws/2014/10/transport',
  xop: 'http://www.w3.org/2004/08/xop/include',
} as const;

export const WSA_ANONYMOUS = 'http://www.w3.org/2005/08/addressing/anonymous';

export type XtaPort = 'management' | 'send' | 'msgBox';

const OSCI_MSGBOX = 'http://www.osci.eu/ws/2008/05/transport/urn/messageTypes';

/** Each operation's port and its input's wsam:Action, as XTA.wsdl declares them (xta.test.ts compares). */
export const OPERATIONS = {
  checkAccountActive: { port: 'management', action: 'http://www.xta.de/XTA/CheckAccountActive' },
  createMessageId: { port: 'management', action: 'http://www.xta.de/XTA/CreateMessageID' },
  getTransportReport: { port: 'management', action: 'http://www.xta.de/XTA/GetTransportReport' },
  lookupService: { port: 'management', action: 'http://www.xta.de/XTA/IsServiceAvailable' },
  cancelMessage: { port: 'management', action: 'http://www.xta.de/XTA/CancelMessage' },
  sendMessage: { port: 'send', action: 'http://www.xta.de/XTA/SendMessage' },
  sendMessageSync: { port: 'send', action: 'http://www.xta.de/XTA/SendMessageSync' },
  getStatusList: { port: 'msgBox', action: `${OSCI_MSGBOX}/MsgBoxStatusListRequest` },
  getMessage: { port: 'msgBox', action: `${OSCI_MSGBOX}/MsgBoxFetchRequest` },
  getNextMessage: { port: 'msgBox', action: `${OSCI_MSGBOX}/MsgBoxGetNextMsgRequest` },
  getNextStatusList: { port: 'msgBox', action: `${OSCI_MSGBOX}/MsgBoxGetNextListRequest` },
  close: { port: 'msgBox', action: `${OSCI_MSGBOX}/MsgBoxCloseRequest` },
} as const satisfies Record<string, { port: XtaPort; action: string }>;

export type XtaOperation = keyof typeof OPERATIONS;

/** The operation a wsa:Action names, if any. */
export function operationOf(action: string): XtaOperation | undefined {
  return (Object.keys(OPERATIONS) as XtaOperation[]).find((op) => OPERATIONS[op].action === action);
}

export function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export interface EnvelopeParts {
  action: string;
  /** wsa:To: the port's address. */
  to: string;
  /** wsa:MessageID of this SOAP message. */
  messageId: string;
  /** Further header blocks (XTA's Author or MessageMetaData), as XML. */
  headers?: readonly string[];
  /** The body's content, as XML; empty for XTA's EmptyBody. */
  body: string;
}

/** A SOAP 1.2 envelope with wsa:Action, wsa:MessageID, wsa:To and the anonymous wsa:ReplyTo. */
export function buildEnvelope(p: EnvelopeParts): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<soap:Envelope xmlns:soap="${NS.soap}" xmlns:wsa="${NS.wsa}" xmlns:xta="${NS.xta}" xmlns:osci="${NS.osci}" xmlns:oscimeta="${NS.meta}">` +
    `<soap:Header>` +
    `<wsa:Action soap:mustUnderstand="true">${escapeXml(p.action)}</wsa:Action>` +
    `<wsa:MessageID>${escapeXml(p.messageId)}</wsa:MessageID>` +
    `<wsa:To soap:mustUnderstand="true">${escapeXml(p.to)}</wsa:To>` +
    `<wsa:ReplyTo><wsa:Address>${WSA_ANONYMOUS}</wsa:Address></wsa:ReplyTo>` +
    (p.headers ?? []).join('') +
    `</soap:Header>` +
    `<soap:Body>${p.body}</soap:Body>` +
    `</soap:Envelope>`
  );
}

/** An oscimeta:PartyType's content: the identifier with its type, name and category attributes. */
export interface PartyIdentifier {
  identifier: string;
  type: string;
  name?: string | undefined;
  category?: string | undefined;
}

export function partyXml(element: 'Author' | 'Reader' | 'Sender', p: PartyIdentifier): string {
  const attrs = [`type="${escapeXml(p.type)}"`];
  if (p.name) attrs.push(`name="${escapeXml(p.name)}"`);
  if (p.category) attrs.push(`category="${escapeXml(p.category)}"`);
  return `<oscimeta:${element}><oscimeta:Identifier ${attrs.join(' ')}>${escapeXml(p.identifier)}</oscimeta:Identifier></oscimeta:${element}>`;
}

export interface KeyCode {
  code: string;
  listUri: string;
  listVersionId: string;
  name?: string | undefined;
}

function keyCodeXml(element: string, k: KeyCode, extraAttrs = ''): string {
  return (
    `<oscimeta:${element} listURI="${escapeXml(k.listUri)}" listVersionID="${escapeXml(k.listVersionId)}"${extraAttrs}>` +
    `<code>${escapeXml(k.code)}</code>${k.name ? `<name>${escapeXml(k.name)}</name>` : ''}</oscimeta:${element}>`
  );
}

export interface Qualifier {
  subject?: string | undefined;
  service: string;
  businessScenario: ({ defined: KeyCode } | { undefined: string }) & {};
  messageType: KeyCode & { payloadSchema: string };
}

/** The message property that carries the delivery's idempotency key, for readers and reconciliation that match by it. */
export const IDEMPOTENCY_PROPERTY: KeyCode = { code: 'idempotencyKey', listUri: 'urn:amtsbote:xta:message-property', listVersionId: '1' };

export interface MessageMetaData {
  messageId: string;
  author: PartyIdentifier;
  reader: PartyIdentifier;
  qualifier: Qualifier;
  /** The message's size in bytes, the payload and attachments together. */
  size: number;
  /** oscimeta:MessageProperties: key code and value. */
  properties?: readonly { key: KeyCode; value: string }[];
  test: boolean;
}

/** oscimeta:MessageMetaData in the order the schema's sequence demands. */
export function messageMetaDataXml(m: MessageMetaData): string {
  const q = m.qualifier;
  const scenario =
    'defined' in q.businessScenario
      ? keyCodeXml('Defined', q.businessScenario.defined)
      : `<oscimeta:Undefined>${escapeXml(q.businessScenario.undefined)}</oscimeta:Undefined>`;
  return (
    `<oscimeta:MessageMetaData${m.test ? ' TestMsg="true"' : ''}>` +
    `<oscimeta:DeliveryAttributes/>` +
    `<oscimeta:Originators>${partyXml('Author', m.author)}</oscimeta:Originators>` +
    `<oscimeta:Destinations>${partyXml('Reader', m.reader)}</oscimeta:Destinations>` +
    `<oscimeta:MsgIdentification><wsa:MessageID>${escapeXml(m.messageId)}</wsa:MessageID></oscimeta:MsgIdentification>` +
    `<oscimeta:Qualifier>` +
    (q.subject ? `<oscimeta:Subject>${escapeXml(q.subject)}</oscimeta:Subject>` : '') +
    `<oscimeta:Service>${escapeXml(q.service)}</oscimeta:Service>` +
    `<oscimeta:BusinessScenario>${scenario}</oscimeta:BusinessScenario>` +
    keyCodeXml('MessageType', q.messageType, ` payloadSchema="${escapeXml(q.messageType.payloadSchema)}"`) +
    `</oscimeta:Qualifier>` +
    (m.properties?.length
      ? `<oscimeta:MessageProperties>${m.properties
          .map(
            (p) =>
              `<oscimeta:Property>${keyCodeXml('Key', p.key)}<oscimeta:Value>${escapeXml(p.value)}</oscimeta:Value></oscimeta:Property>`,
          )
          .join('')}</oscimeta:MessageProperties>`
      : '') +
    (m.size > 0 ? `<oscimeta:MsgSize>${m.size}</oscimeta:MsgSize>` : '') +
    `</oscimeta:MessageMetaData>`
  );
}

/** One xta:ContentType element whose content is the MIME part `contentId` (XOP). */
export interface ContentItem {
  contentId: string;
  mediaType: string;
  filename?: string | undefined;
  size: number;
}

export function contentXml(element: 'Message' | 'Attachment', c: ContentItem): string {
  const attrs = [`contentType="${escapeXml(c.mediaType)}"`];
  if (c.filename) attrs.push(`filename="${escapeXml(c.filename)}"`);
  if (c.size > 0) attrs.push(`size="${c.size}"`);
  return `<xta:${element} ${attrs.join(' ')}><xop:Include xmlns:xop="${NS.xop}" href="cid:${escapeXml(c.contentId)}"/></xta:${element}>`;
}

/** xta:GenericContentContainer with the message and its attachments as XOP references. */
export function contentContainerXml(message: ContentItem, attachments: readonly ContentItem[]): string {
  return (
    `<xta:GenericContentContainer><xta:ContentContainer>` +
    contentXml('Message', message) +
    attachments.map((a) => contentXml('Attachment', a)).join('') +
    `</xta:ContentContainer></xta:GenericContentContainer>`
  );
}
