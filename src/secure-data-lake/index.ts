export * from './data-zone';
export * from './secure-data-lake';
export * from './secure-upload-api';
