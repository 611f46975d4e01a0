// Loaded into a test's `stepbox serve` with `node --import`: on SIGUSR2 it raises what a
// bug would, outside every handler of the lab. STEPBOX_TEST_FAULT=reject makes it an
// unhandled promise rejection instead of an uncaught exception. Never loaded by the lab.
process.on('SIGUSR2', () => {
  if (process.env.STEPBOX_TEST_FAULT === 'reject') void Promise.reject(new Error('a rejection the test injected'));
  else setImmediate(() => {
    throw new Error('an exception the test injected');
  });
});
