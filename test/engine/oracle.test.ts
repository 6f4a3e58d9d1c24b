import { oracleSuite } from './oracle.js';

oracleSuite({ long16k: true });
