// Types of build.mjs, for the TypeScript that imports it (bench/start.ts).
export declare const OUT: string;
export declare function build(): Promise<void>;
export declare function ensureBuilt(): Promise<string>;
