#!/usr/bin/env node
// The CLI entry: runs the lab server built to plain JavaScript (build.mjs), rebuilt first
// when a source in lab-server/src is newer than the build. Stack traces point into the
// TypeScript sources through the build's source map.
import { pathToFileURL } from 'node:url';
import { ensureBuilt } from './build.mjs';

process.setSourceMapsEnabled(true);
await import(pathToFileURL(await ensureBuilt()).href);
