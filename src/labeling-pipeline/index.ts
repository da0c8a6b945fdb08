export * from './cleaning-rules';
export * from './labeler';
export * from './labeling-pipeline';
export * from './pipeline-options';
