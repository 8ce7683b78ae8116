// The house rules of docs/architecture.md as checks: `npm run lint:deps` (part of `npm test`) fails on a
// violation and names the rule. Tests and their fixtures may import what they test, so the rules are about
// the hub's own code under src/ and adapters/.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: the two modules cannot be understood, tested or loaded one without the other.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-pure',
      comment: 'src/core/ holds pure rules and types; it imports nothing else from the hub.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^(src/(?!core/)|adapters/)' },
    },
    {
      name: 'store-imports-only-core',
      comment: 'src/store/ sits below every feature: it may import src/core/ and nothing above it.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^(src/(?!store/|core/)|adapters/)' },
    },
    {
      name: 'sql-only-in-store',
      comment: 'Only src/store/ speaks SQL: kysely, pg and better-sqlite3 are imported there and nowhere else.',
      severity: 'error',
      from: { path: '^(src|adapters)/', pathNot: ['^src/store/', '\\.test\\.ts$'] },
      to: { path: 'node_modules/(kysely|pg|better-sqlite3)/' },
    },
    {
      name: 'adapters-import-only-the-sdk',
      comment: 'An adapter is built on the SDK (src/sdk/) and the shared HTTP layer (adapters/_http/), nothing else of the hub.',
      severity: 'error',
      from: { path: '^adapters/', pathNot: ['\\.test\\.ts$', '/fixtures/', '/test-helpers\\.ts$'] },
      to: { path: '^src/(?!sdk/)' },
    },
    {
      name: 'adapters-do-not-share-sideways',
      comment: 'One adapter does not import another; what two share lives in adapters/_http/ or the SDK.',
      severity: 'error',
      from: { path: '^adapters/([^/]+)/', pathNot: ['\\.test\\.ts$'] },
      to: { path: '^adapters/', pathNot: ['^adapters/$1/', '^adapters/_http/'] },
    },
    {
      name: 'config-imports-no-features',
      comment: 'src/config/ reads and checks the configuration: adapters come in through the registry the caller hands it, the demo section only as its schema.',
      severity: 'error',
      from: { path: '^src/config/', pathNot: ['\\.test\\.ts$'] },
      to: { path: ['^adapters/', '^src/delivery/', '^src/demo/(?!schema\\.ts$)'] },
    },
    {
      name: 'scheduler-knows-no-jobs',
      comment: 'src/scheduler/ runs whatever jobs are registered with it (hub.ts registers reconcile/ and maintenance/); it imports neither.',
      severity: 'error',
      from: { path: '^src/scheduler/' },
      to: { path: '^src/(reconcile|maintenance)/' },
    },
    {
      name: 'sdk-does-not-import-adapters',
      comment: 'The SDK is what adapters build on; it must not depend on any of them.',
      severity: 'error',
      from: { path: '^src/sdk/', pathNot: ['\\.test\\.ts$'] },
      to: { path: '^adapters/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['(^|/)fixtures/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
