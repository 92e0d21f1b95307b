export * from './secret-redaction-source.js';
