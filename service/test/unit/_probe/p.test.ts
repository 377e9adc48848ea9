import { loadConfig, ConfigError } from '../../../src/config';
import { parseSnapshot } from '../../../src/infrastructure/cache/snapshot-schema';
test('probe', () => {
  const tryit = (env: Record<string,string>) => { try { loadConfig(env); return 'ok'; } catch (e) { return (e as ConfigError).problems; } };
  console.log(JSON.stringify([
    tryit({PORT:'abc', WORKERS:'-1', LOG_LEVEL:'loud', SOURCES:'binance,nope', REDIS_URL:'http://x'}),
    tryit({PORT:'70000'}), tryit({REDIS_URL:''}), tryit({MOCK_EXCHANGE_URL:'ftp://x'}), tryit({MOCK_EXCHANGE_URL:''}),
    tryit({SOURCES:'binance,nope'}), tryit({PORT:''}), tryit({REDIS_URL:'redis://r:6379'}),
    tryit({MOCK_EXCHANGE_URL:'http://mock:9000/'}), tryit({SOURCE_BINANCE_URL:'notaurl'}),
  ], null, 1));
  console.log(parseSnapshot('{"__proto__":{"x":1},"v":1}'));
});
