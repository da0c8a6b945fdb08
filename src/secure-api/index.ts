export * from './api-authorization';
