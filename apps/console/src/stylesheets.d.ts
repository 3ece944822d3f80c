// esbuild bundles an imported stylesheet into app.css; TypeScript 6 checks side-effect imports, so declare them.
declare module '*.css';
