#!/usr/bin/env node
// The CLI entry: registers the TypeScript loader, then hands over to the real main.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
