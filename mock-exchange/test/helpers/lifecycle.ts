import { startMockExchange, type MockExchange } from '../../src/mock-exchange';

/** One mock exchange per test file, reset before every test; `use` receives it once it is listening. */
export function useMockExchange(use: (mock: MockExchange) => void): void {
  let mock: MockExchange | undefined;
  beforeAll(async () => {
    mock = await startMockExchange();
    use(mock);
  });
  afterAll(async () => {
    await mock?.close();
  });
  beforeEach(async () => {
    await mock?.client.reset();
  });
}

/** Reads until the predicate holds (every `intervalMs`), or fails after `timeoutMs` with the last value. */
export async function until<T>(
  read: () => Promise<T>,
  predicate: (value: T) => boolean,
  what: string,
  { timeoutMs = 10_000, intervalMs = 5 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (predicate(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
