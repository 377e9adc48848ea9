import { createMemoryHistory } from '../../../src/infrastructure/history/memory-history';
import { CONTRACT_RETENTION, CONTRACT_RULES, historyContract } from '../../helpers/history-contract';

historyContract('memory', async () => createMemoryHistory(CONTRACT_RETENTION, CONTRACT_RULES));
