// An --exec agent for the e2e credential test: answers which NATS_* variables it inherited.
process.stdin.resume();
process.stdin.on('end', () => {
  const nats = Object.keys(process.env)
    .filter((k) => k.startsWith('NATS_'))
    .sort();
  process.stdout.write(JSON.stringify({ natsEnv: nats, token: process.env.NATS_TOKEN ?? null }));
});
