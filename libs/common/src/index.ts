export * from './config-error';
export * from './host-concurrency';
export * from './percentile';
export * from './redact-url';
export * from './settings';
export * from './tick-batch';
