// See int8-dot.ts; this file runs it with the best kernels of this CPU.
import { int8DotSuite } from './int8-dot.js';

int8DotSuite();
