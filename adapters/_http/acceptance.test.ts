import { expect } from 'chai';
import { compileAcceptance, HTTP_DEFAULT_ACCEPTANCE, parseAnswer } from '../../src/sdk/index.ts';
import { acceptanceRule } from './acceptance.ts';

// The default rule's plain-code shortcut must give the JSONata rule's verdict on every answer.
describe('HTTP acceptance rule', () => {
  const answers: [string, string][] = [
    ['application/json', '{"caseId":"AZ-1"}'],
    ['application/json', '{"ok":true,"caseId":"AZ-1"}'],
    ['application/json', '{"ok":false,"error":"Rasse unbekannt"}'],
    ['application/json', '{"success":false,"message":"später"}'],
    ['application/json', '{"success":"false"}'],
    ['application/json', '{"result":{"ok":false}}'],
    ['application/json', '[{"ok":false}]'],
    ['application/json', '[{"caseId":"AZ-1"},{"caseId":"AZ-2"}]'],
    ['application/json', '[]'],
    ['application/json', '"AZ-1"'],
    ['application/json', 'false'],
    ['application/json', '0'],
    ['application/json', 'null'],
    ['application/json', '{}'],
    ['application/json', 'not json'],
    ['application/problem+json', '{"title":"Bad","ok":false}'],
    ['application/xml', '<ack/>'],
    ['application/xml', '<Quittung><Aktenzeichen>AZ-1</Aktenzeichen></Quittung>'],
    ['application/xml', '<ok>false</ok>'],
    ['text/xml', '<r:success xmlns:r="urn:x">false</r:success>'],
    ['text/html', '<html><body>Anmeldung</body></html>'],
    ['text/html', ''],
    ['text/plain', 'OK'],
    ['', ''],
  ];

  it('gives the verdict of the JSONata default rule for every answer', async () => {
    const fast = acceptanceRule(undefined);
    const jsonata = compileAcceptance(HTTP_DEFAULT_ACCEPTANCE);
    for (const [type, text] of answers) {
      const answer = parseAnswer(type, text, 200);
      expect(await fast.judge(answer), `${type} ${text}`).to.deep.equal(await jsonata.judge(answer));
    }
  });

  it('uses the target’s own rule when it has one', async () => {
    const rule = acceptanceRule({ accepted: 'status = "0"', reference: 'az' });
    expect(await rule.judge(parseAnswer('application/json', '{"status":"0","az":"AZ-9"}', 200))).to.deep.equal({
      accepted: true,
      reference: 'AZ-9',
    });
    expect(await rule.judge(parseAnswer('application/json', '{"caseId":"AZ-1"}', 200))).to.include({ accepted: false });
  });
});
