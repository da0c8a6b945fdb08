export * from './secure-api';
export * from './secure-data-lake';
