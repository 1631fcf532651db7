// The layer rules of docs/ARCHITECTURE.md, checked by `npm test` (npm run lint:deps).
// Lowest first: a module may import from its own layer and from the layers before it, never after.
const LAYERS = ['base', 'config', 'core', 'policies', 'aws', 'diagnose', 'steps', 'check', 'audit', 'teardown', 'ui', 'engine', 'cli'];

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `${layer}-imports-only-below`,
  comment: `src/${layer} may not import ${LAYERS.slice(i + 1).join(', ')}: imports run down the layers (docs/ARCHITECTURE.md)`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${LAYERS.slice(i + 1).join('|')})/` },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'a-person-only-through-io',
      comment: 'below src/cli and src/ui, a person is reached only through the Io port (src/core/io.ts): no chalk, ora or prompts',
      severity: 'error',
      from: { path: '^src/(base|config|core|policies|aws|diagnose|steps|check|teardown|engine)/' },
      to: { path: 'node_modules/(chalk|ora|@inquirer)/' },
    },
    {
      name: 'no-circular',
      comment: 'a cycle makes the load order matter and hides which module owns what',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-dev-dependencies-in-src',
      comment: 'what ships must not need a devDependency (iam-simulate is AGPL and test-only)',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'] },
    },
  ],
  options: {
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/globals\\.d\\.ts$' },
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
