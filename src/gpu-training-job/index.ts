export * from './gpu-training-job';
export * from './instance-type';
export * from './model-consumer';
export * from './training-image';
export * from './training-options';
export * from './training-props';
