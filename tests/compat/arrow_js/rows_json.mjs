// Shared by read_fragment.mjs and write_fragment.mjs: one row as one JSON line.
// int64 values are BigInts and are printed as exact JSON integers.
export function toJson(value) {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return '[' + value.map(toJson).join(',') + ']';
  if (typeof value === 'object') {
    return '{' + Object.entries(value).map(([k, v]) => JSON.stringify(k) + ':' + toJson(v)).join(',') + '}';
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Error(`cannot print non-finite number ${value}`);
  }
  return JSON.stringify(value);
}
