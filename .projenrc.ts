import * as fs from 'fs';
import * as path from 'path';
import { awscdk, github, javascript, JsonPatch, typescript, YamlFile } from 'projen';

/**
 * Minimum aws-cdk-lib this library supports. 2.262.0 is the first release that ships the
 * CloudFormation validator (`CloudFormationValidatePlugin`) the security harness runs, and it
 * satisfies cdk-nag 3's own floor (2.257.0). Tests run against exactly this version.
 */
const CDK_MIN_VERSION = '2.262.0';

/**
 * The major version this branch releases. Conventional commits choose the bump (fix → patch,
 * feat → minor); a breaking change (`feat!:` or a `BREAKING CHANGE:` footer) makes the bump
 * produce the next major, which projen refuses until this number is raised on purpose.
 */
const MAJOR_VERSION = 1;

/** The dev tsconfig (tests, examples, .projenrc.ts), at the top level. */
const TSCONFIG_DEV = 'tsconfig.dev.json';

/** Python for the workflows: the interpreter our build machines have. */
const WORKFLOW_PYTHON = '3.11';
/** Debian/Ubuntu packages the tests need (see .ci/setup-system.sh); a GitHub runner installs them with sudo. */
const SYSTEM_PACKAGES_STEP: github.workflows.JobStep = {
  name: 'System packages for the tests (python3-torch, python3-onnx)',
  run: 'sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends python3-torch python3-onnx',
};
const SETUP_PYTHON_STEP: github.workflows.JobStep = {
  name: 'Setup Python',
  uses: 'actions/setup-python@v7.0.0',
  with: { 'python-version': WORKFLOW_PYTHON },
};

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-secure-mlops',
  description:
    'AWS CDK L3 constructs for the machine-learning lifecycle of regulated (medical) measurement data: secure data lake, labeling, GPU training, serverless ONNX serving.',
  author: 'cdk-secure-mlops contributors',
  authorAddress: 'maintainers@cdk-secure-mlops.dev',
  repositoryUrl: 'https://github.com/cdk-secure-mlops/cdk-secure-mlops.git',
  homepage: 'https://github.com/cdk-secure-mlops/cdk-secure-mlops#readme',
  keywords: ['cdk', 'aws-cdk', 'mlops', 'sagemaker', 'onnx', 'hipaa', 'data-lake', 'security'],
  license: 'Apache-2.0',
  cdkVersion: CDK_MIN_VERSION,
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  minNodeVersion: '22.0.0',
  workflowNodeVersion: '22.x',

  publishToPypi: {
    distName: 'cdk-secure-mlops',
    module: 'cdk_secure_mlops',
  },

  // Releases: `npx projen release` (bump from conventional commits → full build with every test →
  // unbump) is what the release workflow runs; `npx projen release:local` builds the same
  // artifacts without the tests (CI runs the tests once, before). See CONTRIBUTING.md.
  release: true,
  releaseToNpm: true,
  majorVersion: MAJOR_VERSION,
  // Pinned, so that a release does not pick up a publisher that changed since the last one.
  jsiiReleaseVersion: '0.2.1061',
  releaseWorkflowSetupSteps: [SETUP_PYTHON_STEP, SYSTEM_PACKAGES_STEP],

  // Workflows for the maintainers' forge (GitHub Actions): build (every pull request), release
  // (every push to main), upgrade (dependencies, weekly PR). Linted by actionlint in CI; not run here.
  github: true,
  githubOptions: {
    mergify: false,
    // Pull request titles become the squash-merge commit: they must be conventional commits.
    pullRequestLint: true,
  },
  // The build workflow is `.ci/run` itself (defined below), so that pull requests are checked by
  // exactly what CI runs; projen's own build workflow would run `projen build` (jest only).
  buildWorkflow: false,
  depsUpgradeOptions: {
    workflowOptions: { schedule: javascript.UpgradeDependenciesSchedule.WEEKLY },
  },

  tsconfigDevFile: TSCONFIG_DEV,
  // One dev tsconfig for tests, examples and .projenrc.ts (ts-node runs the projenrc with it).
  projenrcTsOptions: {
    runner: typescript.TypeScriptRunner.tsNode({ tsconfig: TSCONFIG_DEV, typeCheck: true }),
  },
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'build-tools'],
    fileExtensions: ['.ts', '.tsx'],
    // One project for every linted file (the nearest tsconfig.json of a test file would be the
    // root one, which holds src/ only).
    projectService: false,
    tsconfigPath: `./${TSCONFIG_DEV}`,
  },

  // Handlers are bundled by the one rule below (src/<construct>/runtime/*.handler.ts), not by
  // projen's *.lambda.ts discovery (which would generate a Function class per handler).
  lambdaAutoDiscover: false,

  // JSON Schema validation of records: the cleaning handler bundles it, and LabelingPipeline
  // compiles the user's cleaning rules at synth with the same code, so a bad rule fails synth.
  // Bundled into the package (jsii), so Python users get it too.
  bundledDeps: ['ajv@^8.20.0', 'ajv-formats@^3.0.1'],

  devDeps: [
    // Node 22 for every npm script and projen task (the handlers are built for Node 22 and run on
    // the newest Lambda Node.js runtime, nodejs24.x or later; the local Step Functions interpreter
    // needs Node 22).
    'node@22',
    'cdk-nag@^3.0.2',
    'esbuild@^0.28.0',
    '@types/aws-lambda',
    '@aws-sdk/client-s3',
    '@aws-sdk/client-kms',
    '@aws-sdk/s3-presigned-post',
    // Handler ground floor (src/private/runtime/): structured logs, EMF metrics, X-Ray tracing of
    // the SDK clients.
    '@aws-lambda-powertools/logger',
    '@aws-lambda-powertools/metrics',
    '@aws-lambda-powertools/tracer',
    'fast-check@^4',
    // AGPL-3.0: a test tool only, never a runtime dependency.
    '@cloud-copilot/iam-simulate',
    'yaml',
    // Tests and local runs of the predict handler. Packaged for one platform at the consumer's
    // synth (src/serverless-model-endpoint/runtime-package.ts pins the same version).
    'onnxruntime-node@1.30.0',
    // LabelingPipeline handlers (clients stay external; Powertools batch is bundled).
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-eventbridge',
    '@aws-sdk/client-lambda',
    '@aws-sdk/client-sfn',
    '@aws-sdk/client-sqs',
    '@aws-lambda-powertools/batch',
    // Local Step Functions interpreter (Node 22) for the state machine tests.
    'aws-local-stepfunctions@^3',
    // GpuTrainingJob's publish-model handler reads SageMaker's model.tar.gz (bundled by esbuild).
    'tar-stream@^3.3.0',
  ],

  jestOptions: {
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    passWithNoTests: false,
    // .ci/summary.js reads this report for CI's closing line.
    extraCliOptions: ['--json', '--outputFile=test-reports/jest.json'],
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testTimeout: 120_000,
      maxWorkers: 2,
      collectCoverage: false,
      // Every property test prints its fast-check seed (replay with FC_SEED=<n>).
      setupFilesAfterEnv: ['<rootDir>/test/support/fast-check-seed.ts'],
    },
  },

  gitignore: ['/cdk.out/', '/.venv-*/', '/test-reports/', '/dist/', '.tools-stamp', '.jsii.tabl.json'],
  excludeTypescript: ['examples/**'],
});

// One rule for every handler: each `src/<construct>/runtime/<name>.handler.ts` is bundled with
// esbuild into `assets/<construct>/<name>.handler/index.js` when the library is built, and the
// construct stages that bundle (with its configuration file, where it has one) through
// src/private/function-code.ts. The AWS SDK v3 clients that the Lambda Node.js runtime provides
// stay external, and so does onnxruntime-node (packaged for one platform at the consumer's synth).
for (const dir of fs.readdirSync('src', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
  const runtimeDir = path.join('src', dir, 'runtime');
  if (!fs.existsSync(runtimeDir)) continue;
  for (const file of fs.readdirSync(runtimeDir).filter((f) => f.endsWith('.handler.ts')).sort()) {
    project.bundler.addBundle(path.join(runtimeDir, file), {
      platform: 'node',
      target: 'node22',
      externals: ['@aws-sdk/client-*', 'onnxruntime-node'],
      outfile: 'index.js',
      sourcemap: false,
    });
  }
}
// The lineage CLI (src/lineage/runtime/cli.ts, docs/lineage.md): one self-contained file, the S3
// client bundled in (users need no AWS SDK of their own), run as `npx cdk-secure-mlops-lineage`.
project.bundler.addBundle('src/lineage/runtime/cli.ts', {
  platform: 'node',
  target: 'node22',
  outfile: 'index.js',
  sourcemap: false,
  executable: true,
  minify: true,
  banner: '#!/usr/bin/env node',
});
project.addBins({ 'cdk-secure-mlops-lineage': 'assets/lineage/runtime/cli/index.js' });
// Run-time code (entries, handler factories, logic, the shared ground floor) is bundled into the
// handlers' assets by esbuild, so it may use devDependencies.
project.eslint?.allowDevDeps('src/*/runtime/**');
project.eslint?.allowDevDeps('src/private/runtime/**');

// Handler entries and the run-time code that only bundles use are never loaded from lib/.
for (const p of ['/lib/**/*.handler.js', '/lib/**/*.handler.d.ts',
  '/lib/gpu-training-job/runtime/*', '/lib/labeling-pipeline/runtime/*', '/lib/secure-data-lake/runtime/*', '/lib/serverless-model-endpoint/runtime/*', '/lib/private/runtime/',
  '/lib/model-monitor/runtime/*', '/lib/model-promotion/runtime/*', '/lib/lineage/',
  '/examples/', '/.ci/', '/requirements-*.txt', '/python-tests/', '/cdk.out/', '/BENCHMARKS.md', '/.venv-*/']) {
  project.npmignore?.exclude(p);
}
// Except what the constructs load at synth: the contracts (env names, staged files, metric names)
// that construct and handler share, and LabelingPipeline's logic (the construct compiles the user's
// cleaning rules and labelers with the handlers' own code).
for (const dir of ['gpu-training-job', 'labeling-pipeline', 'secure-data-lake', 'serverless-model-endpoint', 'model-monitor', 'model-promotion']) {
  project.npmignore?.include(`/lib/${dir}/runtime/contract.js`, `/lib/${dir}/runtime/contract.d.ts`);
}
project.npmignore?.include('/lib/labeling-pipeline/runtime/logic/');

// onnxruntime-node's postinstall downloads CUDA binaries; its CPU binaries are in the package.
project.npmrc.addConfig('onnxruntime-node-install', 'skip');

// The dev tsconfig type-checks the library, tests, examples and .projenrc.ts (examples are not
// shipped). projen's default include (`**/*.ts` at the top level) would also take lib/*.d.ts,
// cdk.out and the virtualenvs.
project.tryFindObjectFile(TSCONFIG_DEV)?.addOverride('include', [
  'src/**/*.ts', 'test/**/*.ts', 'examples/**/*.ts', '.projenrc.ts', 'projenrc/**/*.ts',
]);
project.tryFindObjectFile(TSCONFIG_DEV)?.addOverride('exclude', ['node_modules', 'lib', 'cdk.out', 'dist', 'test/**/cdk.out']);
// projen gives .projenrc.ts a tsconfig of its own (projenrc/tsconfig.json); the dev tsconfig
// covers it (and the runner above uses it).
project.tryRemoveFile('projenrc/tsconfig.json');
project.gitignore.removePatterns('!/projenrc/tsconfig.json');
project.npmignore?.removePatterns('/projenrc/tsconfig.json');
project.gitattributes.removeAttributes('/projenrc/tsconfig.json', 'linguist-generated', 'linguist-language=JSON-with-Comments');

const tools = project.addTask('setup:tools', {
  description: 'Install what the tests need: Debian python3-torch/python3-onnx if missing, and the pinned Python test tools (moto_server, cfn-lint, checkov) into .venv-tools and .venv-checkov',
  steps: [
    { exec: 'bash .ci/setup-system.sh' },
    { exec: 'bash .ci/setup-tools.sh' },
  ],
});

// Bundled handler assets must exist before tests synthesize the constructs.
const testTask = project.tasks.tryFind('test')!;
testTask.prependSpawn(project.bundler.bundleTask);
testTask.prependSpawn(tools);

project.addTask('test:python', {
  description: 'Build the Python wheel and run the Python tests (quick start + pytest) against it',
  exec: 'bash .ci/python-tests.sh',
});

project.addTask('rosetta', {
  description: 'Compile README and every @example with jsii-rosetta --strict',
  exec: 'jsii-rosetta extract --strict --fail',
});

project.addTask('lint:workflows', {
  description: 'Lint the GitHub workflows with actionlint (installed with go install into a temporary GOBIN)',
  exec: 'bash .ci/actionlint.sh',
});

// The checks after compilation, in the order both `test:all` (CI, README command 2) and projen's
// `build` (the GitHub build and release workflows) run them.
const checkSteps = [
  // ts-jest transpiles test files without type-checking them (isolatedModules): check tests,
  // test support, examples and .projenrc.ts here.
  { exec: `tsc --noEmit -p ${TSCONFIG_DEV}` },
  { spawn: 'test' },
  { spawn: 'rosetta' },
  { spawn: 'test:python' },
  { spawn: 'lint:workflows' },
];

project.addTask('test:all', {
  description: 'Everything CI runs: compile, unit/integration tests, rosetta, python bindings, workflow lint',
  steps: [
    { spawn: 'default' },
    { spawn: 'compile' },
    // API.md is generated from the compiled library; CI fails when the committed one differs.
    { spawn: 'docgen' },
    ...checkSteps,
  ],
});

// Release artifacts without the test suite (CI has run it already): what `release` does, minus the
// tests. dist/ then holds the npm tarball (dist/js), the wheel and sdist (dist/python), the
// changelog entry (dist/changelog.md), the version (dist/version.txt) and the tag
// (dist/releasetag.txt); package.json is back at 0.0.0 afterwards.
const releaseTask = project.tasks.tryFind('release')!;
project.addTask('release:local', {
  description: 'Build the release artifacts for the next version (bump from conventional commits, compile, docs, npm tarball, wheel + sdist, unbump) without running the tests',
  env: { ...releaseTask.envVars },
  steps: [
    { exec: 'rm -fr dist' },
    { spawn: 'bump' },
    { spawn: 'pre-compile' },
    { spawn: 'compile' },
    { spawn: 'post-compile' },
    { spawn: 'package-all' },
    { spawn: 'unbump' },
    { exec: 'node .ci/check-release-artifacts.js' },
  ],
});

// A release by hand, after `release:local` (or `release`): prepend dist/changelog.md to
// CHANGELOG.md, commit it as `chore(release): <version>` and create the annotated tag
// (projen's own release steps). Push with `git push --follow-tags`; publish as CONTRIBUTING.md says.
project.addTask('release:tag', {
  description: 'After release:local: record dist/changelog.md in CHANGELOG.md (commit chore(release): <version>) and create the annotated tag from dist/releasetag.txt',
  env: {
    CHANGELOG: 'dist/changelog.md',
    PROJECT_CHANGELOG_FILE: 'CHANGELOG.md',
    VERSION_FILE: 'dist/version.txt',
    RELEASE_TAG_FILE: 'dist/releasetag.txt',
  },
  steps: [
    { builtin: 'release/update-changelog' },
    { builtin: 'release/tag-version' },
  ],
});

project.addTask('test:registry', {
  description: 'Registry round trip: release artifacts published to a local Verdaccio and pypiserver, installed into fresh TypeScript and Python apps, README quick starts and the consumer security harness (min and latest aws-cdk-lib) synthesized',
  exec: 'bash .ci/registry-roundtrip.sh',
});

project.addTask('bench', {
  description: 'Benchmarks (side by side with their baselines); prints figures and writes BENCHMARKS.md',
  steps: [
    { spawn: 'bundle' },
    { exec: `ts-node --project ${TSCONFIG_DEV} test/bench/serverless-model-endpoint.bench.ts` },
    { exec: `ts-node --project ${TSCONFIG_DEV} test/bench/labeling-pipeline.bench.ts` },
    { exec: `ts-node --project ${TSCONFIG_DEV} test/bench/model-monitor.bench.ts` },
  ],
});

project.addTask('main', {
  description: 'The main job: synthesize the reference app into cdk.out, then run the whole loop locally against moto_server (upload, clean, label, review, dataset, train, serve) and print the reconciled report',
  steps: [
    { spawn: 'setup:tools' },
    { spawn: 'bundle' },
    { exec: `ts-node --project ${TSCONFIG_DEV} examples/reference-app/main.ts` },
  ],
});

// The build workflow: every pull request runs `.ci/run` on a GitHub runner (same tests, same
// registry round trip, same summary line); the test reports are kept as an artifact.
const buildWorkflow = project.github!.addWorkflow('build');
buildWorkflow.on({ pullRequest: {}, workflowDispatch: {} });
buildWorkflow.addJobs({
  build: {
    name: 'build (.ci/run)',
    runsOn: ['ubuntu-latest'],
    permissions: { contents: github.workflows.JobPermission.READ },
    timeoutMinutes: 60,
    env: { CI: 'true' },
    steps: [
      // Full history and tags: the release bump in the registry round trip reads them.
      github.WorkflowSteps.checkout({ with: { fetchDepth: 0 } }),
      { name: 'Setup Node.js', uses: 'actions/setup-node@v7.0.0', with: { 'node-version': '22.x', 'package-manager-cache': false } },
      SETUP_PYTHON_STEP,
      { name: 'Setup Go (actionlint)', uses: 'actions/setup-go@v6', with: { 'go-version': 'stable', 'cache': false } },
      SYSTEM_PACKAGES_STEP,
      { name: 'CI (.ci/run)', run: 'bash .ci/run' },
      github.WorkflowSteps.uploadArtifact({
        name: 'Upload test reports',
        if: 'always()',
        with: { name: 'test-reports', path: 'test-reports', ifNoFilesFound: 'ignore' },
      }),
    ],
  },
});

// actionlint (`lint:workflows`) runs ShellCheck over every `run:` script. These findings are in
// scripts that projen writes into the release and upgrade workflows, which no projen option
// changes: SC2086 (info) is `$GITHUB_OUTPUT` and `$TAG` unquoted (a file path and a release tag,
// neither holds spaces or glob characters); SC2015 (info) is `gh release view ... || gh release
// create ...`, where the create is meant to run only when the view fails. Our own build workflow
// has no ignores; anything else actionlint finds fails CI.
new YamlFile(project, '.github/actionlint.yaml', {
  obj: {
    paths: {
      '.github/workflows/release.yml': {
        ignore: [
          'shellcheck reported issue in this script: SC2086:info:.+',
          'shellcheck reported issue in this script: SC2015:info:.+',
        ],
      },
      '.github/workflows/upgrade-main.yml': {
        ignore: ['shellcheck reported issue in this script: SC2086:info:.+'],
      },
    },
  },
});

// --- Review console (src/review-console/) ---------------------------------------------------------
// The reviewers' single-page app (src/review-console/web/: TypeScript for the browser, index.html,
// console.css) is type-checked with the DOM library and bundled with esbuild into
// assets/review-console/web/ when the library is built, like the handlers. jsii compiles the
// library without it (browser code, with its own tsconfig).
project.tsconfig?.addExclude('src/review-console/web/**');
const consoleWeb = 'src/review-console/web';
const consoleOut = 'assets/review-console/web';
const bundleConsole = project.addTask('bundle:review-console', {
  description: 'Type-check the review console (DOM) and bundle it with esbuild into assets/review-console/web/',
  steps: [
    { exec: `tsc --noEmit -p ${consoleWeb}/tsconfig.json` },
    { exec: `esbuild ${consoleWeb}/main.ts --bundle --format=esm --target=es2022 --minify --legal-comments=none --log-level=warning --outfile=${consoleOut}/console.js` },
    { exec: `node -e "for (const f of ['index.html', 'console.css']) require('fs').copyFileSync('${consoleWeb}/' + f, '${consoleOut}/' + f)"` },
  ],
});
project.bundler.bundleTask.spawn(bundleConsole);
// Its deployment handler (src/review-console/runtime/deploy.handler.ts) is bundled by the handler
// rule above; only the contract it shares with the construct is loaded from lib/.
project.npmignore?.exclude('/lib/review-console/runtime/*');
project.npmignore?.include('/lib/review-console/runtime/contract.js', '/lib/review-console/runtime/contract.d.ts');
// Its browser test (test/review-console/) drives Debian's chromium (installed by
// .ci/setup-system.sh) with playwright-core, and checks accessibility with axe-core.
project.addDevDeps('playwright-core', 'axe-core');
// A person can click through it locally: moto, a few records in review, the real review API
// handler and the reference app's audiogram view (examples/reference-app/console/serve.ts).
project.addTask('console:local', {
  description: 'Serve the review console on http://127.0.0.1:8787/ against moto with a few records in review (local sign-in: rita, ralf review; nora does not)',
  steps: [
    { spawn: 'setup:tools' },
    { spawn: 'bundle' },
    { exec: `ts-node --project ${TSCONFIG_DEV} examples/reference-app/console/serve.ts` },
  ],
});
// --- end of review console ----------------------------------------------------------------------

project.tryFindObjectFile('package.json')?.patch(JsonPatch.add('/engines/node', '>= 22.0.0'));

project.synth();
