export * from './cleaning-rules';
export * from './labeler';
export * from './labeling-pipeline';
