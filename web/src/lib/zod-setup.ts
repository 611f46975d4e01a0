// zod probes whether it may compile parsers with Function(). The server's CSP forbids
// eval, so in the page the probe can only fail, and the browser logs a CSP violation on
// every load. Saying so before any schema is built skips the probe; parsing is the same.
import { z } from 'zod';

z.config({ jitless: true });
