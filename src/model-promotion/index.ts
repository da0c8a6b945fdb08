export * from './model-promotion';
export * from './promotion-options';
