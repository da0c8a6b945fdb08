// Pure logic of the model monitor's drift job (no aws-cdk-lib, no SDK clients). Not exported from src/index.ts.
export * from './special';
export * from './kolmogorov';
export * from './ks';
export * from './distances';
export * from './random';
export * from './baseline';
export * from './baseline-document';
export * from './drift';
export * from './report';
export * from './capture';
export * from './run-report';
