export * from './review-console';
