// The ggml tensor type table and the GGUF metadata value types (GGUF v3).

export enum GGUFValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** Byte size of each fixed-size scalar value type; STRING and ARRAY are variable. */
export const VALUE_TYPE_SIZE: Partial<Record<GGUFValueType, number>> = {
  [GGUFValueType.UINT8]: 1,
  [GGUFValueType.INT8]: 1,
  [GGUFValueType.UINT16]: 2,
  [GGUFValueType.INT16]: 2,
  [GGUFValueType.UINT32]: 4,
  [GGUFValueType.INT32]: 4,
  [GGUFValueType.FLOAT32]: 4,
  [GGUFValueType.BOOL]: 1,
  [GGUFValueType.UINT64]: 8,
  [GGUFValueType.INT64]: 8,
  [GGUFValueType.FLOAT64]: 8,
};

export interface GGMLTypeInfo {
  id: number;
  name: string;
  blockSize: number; // elements per block
  typeSize: number; // bytes per block
  /** Whether this project can read tensors of this type (load, dequantize). */
  supported: boolean;
}

// Removed ids (4, 5, 31-33, 36-38) are absent on purpose: a file using them is rejected.
const TABLE: GGMLTypeInfo[] = [
  { id: 0, name: 'F32', blockSize: 1, typeSize: 4, supported: true },
  { id: 1, name: 'F16', blockSize: 1, typeSize: 2, supported: true },
  { id: 2, name: 'Q4_0', blockSize: 32, typeSize: 18, supported: true },
  { id: 3, name: 'Q4_1', blockSize: 32, typeSize: 20, supported: true },
  { id: 6, name: 'Q5_0', blockSize: 32, typeSize: 22, supported: true },
  { id: 7, name: 'Q5_1', blockSize: 32, typeSize: 24, supported: true },
  { id: 8, name: 'Q8_0', blockSize: 32, typeSize: 34, supported: true },
  { id: 9, name: 'Q8_1', blockSize: 32, typeSize: 36, supported: false },
  { id: 10, name: 'Q2_K', blockSize: 256, typeSize: 84, supported: true },
  { id: 11, name: 'Q3_K', blockSize: 256, typeSize: 110, supported: true },
  { id: 12, name: 'Q4_K', blockSize: 256, typeSize: 144, supported: true },
  { id: 13, name: 'Q5_K', blockSize: 256, typeSize: 176, supported: true },
  { id: 14, name: 'Q6_K', blockSize: 256, typeSize: 210, supported: true },
  { id: 15, name: 'Q8_K', blockSize: 256, typeSize: 292, supported: true },
  { id: 16, name: 'IQ2_XXS', blockSize: 256, typeSize: 66, supported: false },
  { id: 17, name: 'IQ2_XS', blockSize: 256, typeSize: 74, supported: false },
  { id: 18, name: 'IQ3_XXS', blockSize: 256, typeSize: 98, supported: false },
  { id: 19, name: 'IQ1_S', blockSize: 256, typeSize: 50, supported: false },
  { id: 20, name: 'IQ4_NL', blockSize: 32, typeSize: 18, supported: false },
  { id: 21, name: 'IQ3_S', blockSize: 256, typeSize: 110, supported: false },
  { id: 22, name: 'IQ2_S', blockSize: 256, typeSize: 82, supported: false },
  { id: 23, name: 'IQ4_XS', blockSize: 256, typeSize: 136, supported: false },
  { id: 24, name: 'I8', blockSize: 1, typeSize: 1, supported: false },
  { id: 25, name: 'I16', blockSize: 1, typeSize: 2, supported: false },
  { id: 26, name: 'I32', blockSize: 1, typeSize: 4, supported: false },
  { id: 27, name: 'I64', blockSize: 1, typeSize: 8, supported: false },
  { id: 28, name: 'F64', blockSize: 1, typeSize: 8, supported: false },
  { id: 29, name: 'IQ1_M', blockSize: 256, typeSize: 56, supported: false },
  { id: 30, name: 'BF16', blockSize: 1, typeSize: 2, supported: true },
  { id: 34, name: 'TQ1_0', blockSize: 256, typeSize: 54, supported: false },
  { id: 35, name: 'TQ2_0', blockSize: 256, typeSize: 66, supported: false },
  { id: 39, name: 'MXFP4', blockSize: 32, typeSize: 17, supported: false },
];

const BY_ID = new Map(TABLE.map((t) => [t.id, t]));
const BY_NAME = new Map(TABLE.map((t) => [t.name, t]));

export const GGMLType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  BF16: 30,
} as const;

export function ggmlTypeInfo(id: number): GGMLTypeInfo | undefined {
  return BY_ID.get(id);
}

export function ggmlTypeByName(name: string): GGMLTypeInfo | undefined {
  return BY_NAME.get(name.toUpperCase());
}

export function ggmlTypeName(id: number): string {
  return BY_ID.get(id)?.name ?? `unknown(${id})`;
}

/** Bytes of a tensor with `ne` (innermost first) of type `id`; throws on a row that does not fit a block. */
export function tensorByteSize(id: number, ne: readonly number[]): number {
  const info = BY_ID.get(id);
  if (!info) throw new Error(`unknown ggml type id ${id}`);
  const ne0 = ne[0] ?? 1;
  if (ne0 % info.blockSize !== 0) {
    throw new Error(`row length ${ne0} is not a multiple of ${info.name}'s block size ${info.blockSize}`);
  }
  let rows = 1;
  for (let i = 1; i < ne.length; i++) rows *= ne[i];
  return (ne0 / info.blockSize) * info.typeSize * rows;
}

/** llama.cpp's `llama_ftype` values (general.file_type). */
export const FileType: Record<string, number> = {
  ALL_F32: 0,
  MOSTLY_F16: 1,
  MOSTLY_Q4_0: 2,
  MOSTLY_Q4_1: 3,
  MOSTLY_Q8_0: 7,
  MOSTLY_Q5_0: 8,
  MOSTLY_Q5_1: 9,
  MOSTLY_Q2_K: 10,
  MOSTLY_Q3_K_S: 11,
  MOSTLY_Q3_K_M: 12,
  MOSTLY_Q3_K_L: 13,
  MOSTLY_Q4_K_S: 14,
  MOSTLY_Q4_K_M: 15,
  MOSTLY_Q5_K_S: 16,
  MOSTLY_Q5_K_M: 17,
  MOSTLY_Q6_K: 18,
  MOSTLY_BF16: 32,
};

export function fileTypeName(v: number): string {
  for (const [k, n] of Object.entries(FileType)) if (n === v) return k;
  return `unknown(${v})`;
}
