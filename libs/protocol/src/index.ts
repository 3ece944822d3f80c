export * from './frames';
export * from './decode';
export * from './paths';
export * from './cluster';
