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
