// Pure logic of the LabelingPipeline handlers (no aws-cdk-lib, no SDK clients). Not exported from src/index.ts.
export * from './json';
export * from './cleaning';
export * from './labeling';
export * from './dataset';
export * from './reconcile';
