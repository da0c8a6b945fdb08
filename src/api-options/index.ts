export * from './api-authorization';
export * from './secure-api-options';
export * from './handler-options';
