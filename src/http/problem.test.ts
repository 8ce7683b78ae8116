import { expect } from 'chai';
import '../hub.ts';
import { defineProblems, registeredProblems } from './problem-details.ts';
import { problemTypes } from '../problems.ts';

describe('problem types', () => {
  it('the OpenAPI table holds every type a feature defines (the hub loaded, so every feature registered)', () => {
    // Tests define types of their own, named test-…; mocha loads every test file before it runs one.
    const defined = [...registeredProblems().keys()].filter((t) => !t.startsWith('test-'));
    expect(Object.keys(problemTypes).sort()).to.deep.equal(defined.sort());
  });

  it('a feature makes its problems from its own set, with the type’s fixed status and title', () => {
    const p = defineProblems({ 'test-gone': { status: 410, title: 'Gone for the test' } })('test-gone', 'the thing left', [
      { pointer: '#/id', detail: 'no longer here' },
    ]);
    expect(p).to.deep.include({ type: 'test-gone', status: 410, title: 'Gone for the test', detail: 'the thing left' });
  });

  it('one type URI cannot mean two things', () => {
    expect(() => defineProblems({ 'not-found': { status: 410, title: 'Gone' } })).to.throw(
      'problem type not-found is defined twice, differently',
    );
  });
});
