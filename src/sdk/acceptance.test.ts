import { expect } from 'chai';
import {
  acceptanceOption,
  compileAcceptance,
  HTTP_DEFAULT_ACCEPTANCE,
  jsonataSyntaxError,
  refusal,
  withoutFormData,
} from './acceptance.ts';
import { parseAnswer } from './answer.ts';
import { jsonMessage, xmlMessage } from './conformance.ts';

// The rule engine on its own, over answers as the adapters parse them. The shapes are the ones back offices use
// (docs/acceptance.md has more, tested against the same code by test/acceptance-doc.test.ts).
const efile = { accepted: 'status = "0"', retryable: 'status = "2"', error: 'errormessage', reference: 'vorgangsnummer' };
const soapContent = (body: unknown) => ({ body, httpStatus: 200, mediaType: 'application/soap+xml' });

describe('acceptance rule', () => {
  it('accepts, refuses for now and refuses, with the reference and the back office text', async () => {
    const rule = compileAcceptance(efile);
    expect(await rule.judge(soapContent({ status: '0', vorgangsnummer: 'VG-1' }))).to.deep.equal({ accepted: true, reference: 'VG-1' });
    expect(await rule.judge(soapContent({ status: '2', errormessage: 'System ausgelastet' }))).to.deep.equal({
      accepted: false,
      retryable: true,
      errorKind: 'refused',
      error: 'back office refused the case: System ausgelastet',
    });
    expect(await rule.judge(soapContent({ status: '1', errormessage: 'Vorgang nicht angelegt' }))).to.include({
      accepted: false,
      retryable: false,
    });
  });

  it('refuses an answer the accepted expression does not find (an empty response element)', async () => {
    const v = await compileAcceptance(efile).judge(soapContent(''));
    expect(v).to.deep.equal({
      accepted: false,
      retryable: false,
      errorKind: 'refused',
      error: 'back office refused the case (no error text in its answer)',
    });
  });

  it('leaves the reference to the adapter when the rule names none, and gives null when its expression finds none', async () => {
    expect(await compileAcceptance({ accepted: 'ok' }).judge({ body: { ok: true } })).to.deep.equal({
      accepted: true,
      reference: undefined,
    });
    expect(await compileAcceptance({ accepted: 'ok', reference: 'id' }).judge({ body: { ok: true } })).to.deep.equal({
      accepted: true,
      reference: null,
    });
  });

  it('binds $httpStatus and $mediaType, and reads truth as JSONata does', async () => {
    const rule = compileAcceptance({ accepted: '$httpStatus = 201 and $mediaType = "application/json" and items' });
    expect((await rule.judge({ body: { items: [0, 'x'] }, httpStatus: 201, mediaType: 'application/json' })).accepted).to.equal(true);
    expect((await rule.judge({ body: { items: [] }, httpStatus: 201, mediaType: 'application/json' })).accepted).to.equal(false);
    expect((await rule.judge({ body: { items: ['x'] }, httpStatus: 200, mediaType: 'application/json' })).accepted).to.equal(false);
  });

  it('reads XML values as text and attributes as @name', async () => {
    const answer = parseAnswer('text/xml; charset=utf-8', '<q:Antwort xmlns:q="urn:x" code="007"><q:Text>nein</q:Text></q:Antwort>', 200);
    const v = await compileAcceptance({
      accepted: 'Antwort.`@code` = "0"',
      error: '"Code " & Antwort.`@code` & ": " & Antwort.Text',
    }).judge(answer);
    expect(v).to.include({ accepted: false, error: 'back office refused the case: Code 007: nein' });
  });

  it('cuts the text to one line of 200 characters', async () => {
    const v = await compileAcceptance({ accepted: 'false', error: 'm' }).judge({ body: { m: `Zeile 1\r\nforged: ${'x'.repeat(400)}` } });
    expect(v.accepted).to.equal(false);
    if (v.accepted) return;
    expect(v.error).not.to.match(/[\r\n]/);
    expect(v.error.length).to.equal('back office refused the case: '.length + 200);
    expect(v.error.endsWith('…')).to.equal(true);
  });

  it('cuts the values of the sent message out of the text, JSON and XML', async () => {
    const rule = compileAcceptance({ accepted: 'false', error: 'm' });
    const json = jsonMessage({ halter: { name: 'Mustermann' }, hund: { rasse: 'Dackel', chip: 276098106543210 } });
    const v = await rule.judge({ body: { m: 'Rasse Dackel für Halter Mustermann (Chip 276098106543210) unzulässig' } }, json);
    expect(v).to.include({ error: 'back office refused the case: Rasse … für Halter … (Chip …) unzulässig' });
    const xml = xmlMessage('<a:Antrag xmlns:a="urn:a" art="Sperrmüll"><a:Name>Erika &amp; Max</a:Name></a:Antrag>');
    expect(withoutFormData('Sperrmüll für Erika & Max abgelehnt', xml)).to.equal('… für … abgelehnt');
  });

  it('fails permanently, without quoting the answer, when an expression cannot read it', async () => {
    const v = await compileAcceptance({ accepted: '$number(status) > 0', error: 'm' }).judge({ body: { status: 'Geheim-4711' } });
    expect(v).to.deep.include({ accepted: false, retryable: false, errorKind: 'acceptance-rule' });
    expect(JSON.stringify(v)).not.to.include('Geheim');
    expect(refusal(v as Extract<typeof v, { accepted: false }>, 200)).to.deep.equal({
      ok: false,
      retryable: false,
      errorKind: 'acceptance-rule',
      error: (v as { error: string }).error,
      httpStatus: 200,
    });
  });

  it('refuses a rule that does not compile, with line:column, in the option schema and at compile time', () => {
    expect(jsonataSyntaxError('status = "0"')).to.equal(undefined);
    expect(jsonataSyntaxError('status = "0"\n  and (')).to.match(/^JSONata syntax error at 2:\d+: /);
    const parsed = acceptanceOption.safeParse({ accepted: 'status = ', retryable: 'x' });
    expect(parsed.success).to.equal(false);
    expect(parsed.error!.issues[0]!.path).to.deep.equal(['accepted']);
    expect(() => compileAcceptance({ accepted: 'ok', error: '(((' })).to.throw(/^acceptance\.error: JSONata syntax error/);
    expect(acceptanceOption.safeParse({ accepted: 'ok', colour: 'blue' }).success).to.equal(false);
  });

  describe('the HTTP adapters’ default', () => {
    const rule = compileAcceptance(HTTP_DEFAULT_ACCEPTANCE);
    const json = (body: unknown) => parseAnswer('application/json', JSON.stringify(body), 200);

    it('accepts an ordinary receipt, JSON or XML, and one that says ok: true', async () => {
      expect((await rule.judge(json({ id: 'AZ-1' }))).accepted).to.equal(true);
      expect((await rule.judge(json({ ok: true, id: 'AZ-1' }))).accepted).to.equal(true);
      expect((await rule.judge(parseAnswer('application/xml', '<ok>false</ok>', 200))).accepted).to.equal(true);
      expect((await rule.judge(parseAnswer('', '', 204))).accepted).to.equal(true);
    });

    it('refuses ok: false and success: false with their text, and an HTML page', async () => {
      expect(await rule.judge(json({ ok: false, error: 'nein' }))).to.include({
        accepted: false,
        error: 'back office refused the case: nein',
      });
      expect(await rule.judge(json({ success: false, error: { message: 'nicht so' } }))).to.include({
        error: 'back office refused the case: nicht so',
      });
      expect(await rule.judge(json({ success: false }))).to.include({
        error: 'back office refused the case (no error text in its answer)',
      });
      expect(await rule.judge(parseAnswer('text/html; charset=utf-8', '<html><body>Login</body></html>', 200))).to.include({
        accepted: false,
        retryable: false,
      });
    });
  });
});
