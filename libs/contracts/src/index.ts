export * from './answers';
export * from './instances';
export * from './owner';
export * from './admin';
export * from './inspector';
