import { MemoryRunStore } from '../../../src/store/MemoryRunStore.js';
import { runStoreContract } from './contract.js';

runStoreContract('MemoryRunStore', async (clock) => new MemoryRunStore({ clock }));
