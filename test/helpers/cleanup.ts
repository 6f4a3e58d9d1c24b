// vitest setup file: after each test file, remove the temp dirs its tests made.
import { afterAll } from 'vitest';
import { removeTempDirs } from './fixtures.js';

afterAll(removeTempDirs);
