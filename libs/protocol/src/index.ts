export * from './frames';
export * from './decode';
export * from './paths';
export * from './cluster';
export * from './failure-codes';
export * from './replicas';
export * from './http-frames';
export * from './chunk-frames';
