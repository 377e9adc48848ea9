import { startMockExchange } from './mock-exchange';

function portFromEnv(text: string | undefined): number {
  if (text === undefined || text === '') return 9099;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`MOCK_EXCHANGE_PORT must be an integer from 0 to 65535, got "${text}"`);
  }
  return port;
}

async function main(): Promise<void> {
  const mock = await startMockExchange({
    port: portFromEnv(process.env.MOCK_EXCHANGE_PORT),
    host: process.env.MOCK_EXCHANGE_HOST || '127.0.0.1',
  });
  // One JSON line: scripts wait for it and read the URL from it.
  console.log(JSON.stringify({ msg: 'mock exchange listening', url: mock.url, port: mock.port }));

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    mock.close().then(
      () => {
        console.log(JSON.stringify({ msg: 'mock exchange stopped', signal }));
        process.exit(0);
      },
      (error: unknown) => {
        console.error(JSON.stringify({ msg: 'mock exchange failed to stop', error: String(error) }));
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(JSON.stringify({ msg: 'mock exchange failed to start', error: String(error) }));
  process.exit(1);
});
