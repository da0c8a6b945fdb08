export * from './capture-options';
export * from './model-artifact';
export * from './serverless-model-endpoint';
