// The oracle with the chunked (SSD) form of the scan for prefill (FALCON_H1_SCAN=chunked).
process.env.FALCON_H1_SCAN = 'chunked';
const { oracleSuite } = await import('./oracle.js');
oracleSuite({ long16k: true });
