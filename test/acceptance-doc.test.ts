import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { acceptanceOption, compileAcceptance, HTTP_DEFAULT_ACCEPTANCE, parseAnswer, type ParsedAnswer } from '../src/sdk/index.ts';
import { responseContent } from '../adapters/soap/response.ts';

// docs/acceptance.md shows real back-office answers and the rule to write for each. This test reads the page
// and judges every answer by its section's rule (the HTTP adapters' default where a section has none), so the
// page cannot drift from what the code does.
const DOC = new URL('../docs/acceptance.md', import.meta.url);

interface Example {
  section: string;
  rule: unknown;
  kind: 'json' | 'xml' | 'html' | 'soap';
  answer: string;
  outcome: 'accepted' | 'refused permanently' | 'refused for now';
  text: string;
}

const MEDIA = { json: 'application/json', xml: 'application/xml', html: 'text/html' } as const;

function examples(markdown: string): Example[] {
  const out: Example[] = [];
  for (const part of markdown.split(/^### /m).slice(1)) {
    const section = part.slice(0, part.indexOf('\n'));
    let rule: unknown;
    let pending: { kind: Example['kind']; answer: string } | undefined;
    const token =
      /^```(\w+) (rule|answer|soap-answer)\n([\s\S]*?)^```$|^Outcome: \*\*(accepted|refused permanently|refused for now)\*\* — `([^`]*)`$/gm;
    for (const m of part.matchAll(token)) {
      if (m[2] === 'rule') rule = (parseYaml(m[3]!) as { acceptance: unknown }).acceptance;
      else if (m[2]) pending = { kind: m[2] === 'soap-answer' ? 'soap' : (m[1] as 'json' | 'xml' | 'html'), answer: m[3]! };
      else {
        if (!pending) throw new Error(`${section}: an Outcome line without an answer before it`);
        out.push({ section, rule, ...pending, outcome: m[4] as Example['outcome'], text: m[5]! });
        pending = undefined;
      }
    }
  }
  return out;
}

function asAnswer(e: Example): ParsedAnswer {
  if (e.kind !== 'soap') return parseAnswer(MEDIA[e.kind], e.answer, 200);
  const content = responseContent(e.answer, undefined);
  if (!content.found) throw new Error(`${e.section}: no response element in the example`);
  return { body: content.value, httpStatus: 200, mediaType: 'application/soap+xml' };
}

describe('docs/acceptance.md examples', () => {
  const all = examples(readFileSync(DOC, 'utf8'));

  it('has examples for SOAP, REST, XML and HTML answers, refused permanently, for now and accepted', () => {
    expect(new Set(all.map((e) => e.kind))).to.deep.equal(new Set(['soap', 'json', 'xml', 'html']));
    expect(new Set(all.map((e) => e.outcome))).to.deep.equal(new Set(['accepted', 'refused permanently', 'refused for now']));
    expect(all.length).to.be.at.least(12);
  });

  for (const e of all) {
    it(`${e.section}: ${e.outcome} — ${e.text}`, async () => {
      // The rule as written in YAML must pass the option schema every adapter uses.
      const options = e.rule === undefined ? HTTP_DEFAULT_ACCEPTANCE : acceptanceOption.parse(e.rule);
      const verdict = await compileAcceptance(options).judge(asAnswer(e));
      if (e.outcome === 'accepted') {
        expect(verdict).to.deep.equal({ accepted: true, reference: e.text });
      } else {
        expect(verdict).to.deep.equal({
          accepted: false,
          retryable: e.outcome === 'refused for now',
          errorKind: 'refused',
          error: `back office refused the case: ${e.text}`,
        });
      }
    });
  }
});
