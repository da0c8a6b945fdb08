export * from './api-options';
export * from './secure-data-lake';
export * from './serverless-model-endpoint';
export * from './labeling-pipeline';
export * from './gpu-training-job';
export * from './review-console';
export * from './model-monitor';
export * from './model-promotion';
