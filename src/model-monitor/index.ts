export * from './model-monitor';
export * from './monitor-options';
