// Golden tests for mappings: `amtsbote mapping test` and test/cli-sdk.test.ts run cases through here.
export { runGoldenTests, caseOutput, formatFileResult, formatSummary, GOLDEN_SUBMISSION_ID, GOLDEN_DELIVERY_ID } from './runner.ts';
export type { GoldenOptions, GoldenReport, FileResult, CaseResult, CaseOutput } from './runner.ts';
export { loadGoldenConfig, describeConfigError, type GoldenConfig } from './config.ts';
export { findCaseFiles, loadCaseFile, isCaseFile, type GoldenCase, type CaseFile } from './cases.ts';
export { compareJson, compareXml, canonicalJson, canonicalXml } from './compare.ts';
export { unifiedDiff } from './diff.ts';
export { mappingInputFromEnvelope, readSubmissionFile, checkedEnvelope, type MappingInput, type InputContext } from './input.ts';
